//! The conversation rules as pure predicates: one function per rule, each the only place it is
//! written. The server's store transactions, its domain operations, the hub's feed filter and the
//! web app all decide by these, so they cannot disagree.
//!
//! - [`window_open`] / [`Contact::window_open`]: may free text be sent to the customer now?
//! - [`Claim::is_live`] and [`Claim::is_held_by`]: a claim holds until its lease runs out.
//! - [`visible_to`] / [`Conversation::is_visible_to`]: who may see a conversation, by role, team
//!   and assignee.
//! - [`may_send`]: may this sender send this kind of reply now, and if not, why not.

use crate::api::Role;
use crate::ids::{TeamId, UserId};
use crate::model::{Claim, Contact, Conversation, SERVICE_WINDOW_MS};

/// Whether free-form messages may be sent to a customer at `now` (Unix ms), from the two
/// timestamps it depends on: the customer's last message opens WhatsApp's 24-hour window, and a
/// 131047 refusal after it closes the window early.
pub fn window_open(last_inbound_at: Option<i64>, window_closed_at: Option<i64>, now: i64) -> bool {
    last_inbound_at.is_some_and(|last| {
        now < last.saturating_add(SERVICE_WINDOW_MS) && window_closed_at.is_none_or(|closed| closed < last)
    })
}

impl Contact {
    /// Whether free-form messages may be sent to this customer at `now` (Unix ms).
    pub fn window_open(&self, now: i64) -> bool {
        window_open(self.last_inbound_at, self.window_closed_at, now)
    }
}

impl Claim {
    /// A claim holds until its lease runs out; at `lease_until` itself it has lapsed.
    pub fn is_live(&self, now: i64) -> bool {
        self.lease_until > now
    }

    /// Whether `user` holds this claim at `now`: it is theirs and it is live.
    pub fn is_held_by(&self, user: UserId, now: i64) -> bool {
        self.holder == user && self.is_live(now)
    }

    /// Whether a person may take this claim whoever holds it: the menu bot's (the Automation
    /// account's) yields to anyone who may see the conversation, ending the bot's turn.
    pub fn yields_to_people(&self) -> bool {
        self.holder == crate::automation::AUTOMATION_USER
    }
}

/// Someone who looks at conversations: who they are, their role and the teams they belong to.
#[derive(Clone, Copy, Debug)]
pub struct Viewer<'a> {
    pub id: UserId,
    pub role: Role,
    pub teams: &'a [TeamId],
}

impl Viewer<'_> {
    pub fn is_member_of(&self, team: TeamId) -> bool {
        self.teams.contains(&team)
    }
}

/// Who may see a conversation of `team` (`None`: the general inbox) assigned to `assignee`:
/// - supervisors and admins see every one;
/// - everyone sees their own;
/// - agents and leads see the unassigned ones of the general inbox and of their teams;
/// - leads also see their teams' conversations assigned to others (they look after those queues).
///
/// A conversation someone may not see is answered to them exactly as one that does not exist.
pub fn visible_to(assignee: Option<UserId>, team: Option<TeamId>, viewer: &Viewer<'_>) -> bool {
    if viewer.role.at_least(Role::Supervisor) || assignee == Some(viewer.id) {
        return true;
    }
    let of_my_team = team.is_some_and(|team| viewer.is_member_of(team));
    match assignee {
        None => team.is_none() || of_my_team,
        Some(_) => viewer.role == Role::Lead && of_my_team,
    }
}

impl Conversation {
    /// [`visible_to`] for this conversation.
    pub fn is_visible_to(&self, viewer: &Viewer<'_>) -> bool {
        visible_to(self.assignee, self.team, viewer)
    }

    /// Its claim, if one is live at `now`.
    pub fn live_claim(&self, now: i64) -> Option<&Claim> {
        self.claim.as_ref().filter(|claim| claim.is_live(now))
    }
}

/// What a reply is, as far as the send rule cares: only an approved template may open a closed
/// service window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    /// Free text, media or a reaction.
    FreeForm,
    /// An approved WhatsApp template.
    Template,
}

/// Why a reply may not be sent now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendRefusal {
    /// Only the holder of a live claim sends; `claim` is the live claim of someone else, if any.
    NotHolder { claim: Option<Claim> },
    /// The customer's service window is closed: only a template may go.
    WindowClosed,
}

/// The send rule: `sender` may send a reply of `kind` in a conversation whose claim is `claim`
/// and whose customer's window is `window_open`, at `now`, only while holding that claim live —
/// so two people can never answer one customer at once — and, outside the window, only a template.
pub fn may_send(
    claim: Option<&Claim>,
    sender: UserId,
    kind: ReplyKind,
    window_open: bool,
    now: i64,
) -> Result<(), SendRefusal> {
    let live = claim.filter(|claim| claim.is_live(now));
    if live.is_none_or(|claim| claim.holder != sender) {
        return Err(SendRefusal::NotHolder { claim: live.cloned() });
    }
    if kind == ReplyKind::FreeForm && !window_open {
        return Err(SendRefusal::WindowClosed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ContactId, ConversationId};
    use crate::model::ConversationStatus;

    const ALICE: UserId = UserId(1);
    const BOB: UserId = UserId(2);

    fn contact(last_inbound_at: Option<i64>, window_closed_at: Option<i64>) -> Contact {
        Contact {
            id: ContactId(1),
            wa_id: "1".into(),
            profile_name: String::new(),
            last_inbound_at,
            window_closed_at,
            display_name: None,
            blocked: false,
        }
    }

    fn claim(holder: UserId, lease_until: i64) -> Claim {
        Claim { holder, holder_name: "Alice".into(), lease_until, active_at: 0 }
    }

    fn conversation(assignee: Option<UserId>, claim: Option<Claim>) -> Conversation {
        Conversation {
            id: ConversationId(1),
            contact: contact(None, None),
            status: ConversationStatus::Open,
            assignee,
            team: None,
            priority: crate::model::Priority::Normal,
            queued_at: None,
            claim,
            last_seq: 0,
            last_message_at: None,
            created_at: 0,
            labels: Vec::new(),
            snoozed_until: None,
            sla: None,
        }
    }

    #[test]
    fn the_window_is_open_for_a_day_after_the_customer_writes_unless_whatsapp_closed_it() {
        let now = 10 * SERVICE_WINDOW_MS;
        assert!(!contact(None, None).window_open(now), "never wrote");
        assert!(contact(Some(now - 1000), None).window_open(now));
        assert!(!contact(Some(now - SERVICE_WINDOW_MS), None).window_open(now), "a day ago");
        assert!(!contact(Some(now - 1000), Some(now - 500)).window_open(now), "closed by 131047");
        assert!(contact(Some(now - 100), Some(now - 500)).window_open(now), "the customer wrote again");
    }

    #[test]
    fn a_claim_is_live_until_its_lease_runs_out() {
        let claim = claim(ALICE, 1_000);
        assert!(claim.is_live(999));
        assert!(!claim.is_live(1_000), "lapsed at lease_until itself");
        assert!(!claim.is_live(5_000));
    }

    #[test]
    fn a_claim_is_held_by_its_holder_while_live() {
        let claim = claim(ALICE, 1_000);
        assert!(claim.is_held_by(ALICE, 999));
        assert!(!claim.is_held_by(BOB, 999), "someone else's");
        assert!(!claim.is_held_by(ALICE, 1_000), "lapsed");
        let live = conversation(None, Some(claim.clone()));
        assert_eq!(live.live_claim(999), Some(&claim));
        assert_eq!(live.live_claim(1_000), None);
    }

    #[test]
    fn who_sees_what_by_role_team_and_assignee() {
        const SALES: TeamId = TeamId(1);
        const BILLING: TeamId = TeamId(2);
        // Alice is in Sales; Bob is her teammate there.
        let placements = [
            ("unassigned, general", None, None),
            ("unassigned, her team", None, Some(SALES)),
            ("unassigned, another team", None, Some(BILLING)),
            ("her own, general", Some(ALICE), None),
            ("her own, another team", Some(ALICE), Some(BILLING)),
            ("a teammate's, her team", Some(BOB), Some(SALES)),
            ("someone's, general", Some(BOB), None),
            ("someone's, another team", Some(BOB), Some(BILLING)),
        ];
        let expected = |role: Role, what: &str| match role {
            Role::Supervisor | Role::Admin => true,
            Role::Agent => !matches!(
                what,
                "unassigned, another team"
                    | "a teammate's, her team"
                    | "someone's, general"
                    | "someone's, another team"
            ),
            Role::Lead => {
                !matches!(what, "unassigned, another team" | "someone's, general" | "someone's, another team")
            }
        };
        for role in Role::ALL {
            let alice = Viewer { id: ALICE, role, teams: &[SALES] };
            for (what, assignee, team) in placements {
                let mut seen = conversation(assignee, None);
                seen.team = team;
                assert_eq!(seen.is_visible_to(&alice), expected(role, what), "{role:?}: {what}");
            }
        }
        let loner = Viewer { id: ALICE, role: Role::Agent, teams: &[] };
        assert!(visible_to(None, None, &loner), "the general inbox is everyone's");
        assert!(!visible_to(None, Some(SALES), &loner), "a team's queue is its members'");
    }

    #[test]
    fn only_the_live_holder_sends_and_only_templates_outside_the_window() {
        let now = 500;
        let mine = claim(ALICE, 1_000);
        let theirs = claim(BOB, 1_000);
        assert_eq!(may_send(Some(&mine), ALICE, ReplyKind::FreeForm, true, now), Ok(()));
        assert_eq!(
            may_send(Some(&theirs), ALICE, ReplyKind::FreeForm, true, now),
            Err(SendRefusal::NotHolder { claim: Some(theirs.clone()) }),
            "someone else holds it: told who"
        );
        assert_eq!(may_send(None, ALICE, ReplyKind::Template, true, now), Err(SendRefusal::NotHolder { claim: None }));
        assert_eq!(
            may_send(Some(&claim(ALICE, now)), ALICE, ReplyKind::FreeForm, true, now),
            Err(SendRefusal::NotHolder { claim: None }),
            "a lapsed claim of one's own is no claim, and a lapsed one of another is not reported"
        );
        assert_eq!(
            may_send(Some(&claim(BOB, now)), ALICE, ReplyKind::FreeForm, true, now),
            Err(SendRefusal::NotHolder { claim: None })
        );
        assert_eq!(may_send(Some(&mine), ALICE, ReplyKind::FreeForm, false, now), Err(SendRefusal::WindowClosed));
        assert_eq!(may_send(Some(&mine), ALICE, ReplyKind::Template, false, now), Ok(()), "a template reopens it");
        assert_eq!(
            may_send(Some(&theirs), ALICE, ReplyKind::Template, false, now),
            Err(SendRefusal::NotHolder { claim: Some(theirs) }),
            "the claim is checked first"
        );
    }
}
