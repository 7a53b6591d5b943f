//! The app's URLs: which [`Place`] a path names, and the path of each place. Pure, so it is
//! tested natively; [`crate::context::Ctx`] reads the router's location through [`Place::parse`]
//! and navigates with [`Place::path`].
//!
//! The inbox list stays mounted while the open conversation changes (`/` ↔ `/c/{id}`): its
//! folder, filters and search are kept, as they were before URLs. That is why the place is a
//! value derived from the location rather than a `<Routes>` tree that would remount the page.

use baton_shared::{ContactId, ConversationId};

/// The sections of the app, one on screen at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Inbox,
    Wall,
    Replies,
    Users,
    Teams,
    Rules,
    Automation,
    Contacts,
    Reports,
}

/// Where the user is: a section, and in the inbox the open conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// `/`, or `/c/{id}` with that conversation open.
    Inbox(Option<ConversationId>),
    /// `/wall`
    Wall,
    /// `/replies`
    Replies,
    /// `/users`
    Users,
    /// `/teams`
    Teams,
    /// `/rules`
    Rules,
    /// `/automation`
    Automation,
    /// `/contacts`, or `/contacts/{id}` with that customer's profile.
    Contacts(Option<ContactId>),
    /// `/reports`
    Reports,
}

impl Place {
    /// The place `path` names; an unknown path is the inbox (the server answers the app for
    /// every path outside `/api`, so a stale or mistyped link still opens Baton).
    pub fn parse(path: &str) -> Place {
        let parts: Vec<&str> = path.split('/').filter(|part| !part.is_empty()).collect();
        match parts.as_slice() {
            ["c", id] => Place::Inbox(id.parse().ok().map(ConversationId)),
            ["wall"] => Place::Wall,
            ["replies"] => Place::Replies,
            ["users"] => Place::Users,
            ["teams"] => Place::Teams,
            ["rules"] => Place::Rules,
            ["automation"] => Place::Automation,
            ["reports"] => Place::Reports,
            ["contacts"] => Place::Contacts(None),
            ["contacts", id] => id.parse().map_or(Place::Contacts(None), |id| Place::Contacts(Some(ContactId(id)))),
            _ => Place::Inbox(None),
        }
    }

    /// The path of this place.
    pub fn path(self) -> String {
        match self {
            Place::Inbox(None) => "/".to_owned(),
            Place::Inbox(Some(id)) => format!("/c/{id}"),
            Place::Wall => "/wall".to_owned(),
            Place::Replies => "/replies".to_owned(),
            Place::Users => "/users".to_owned(),
            Place::Teams => "/teams".to_owned(),
            Place::Rules => "/rules".to_owned(),
            Place::Automation => "/automation".to_owned(),
            Place::Reports => "/reports".to_owned(),
            Place::Contacts(None) => "/contacts".to_owned(),
            Place::Contacts(Some(id)) => format!("/contacts/{id}"),
        }
    }

    pub fn section(self) -> Section {
        match self {
            Place::Inbox(_) => Section::Inbox,
            Place::Wall => Section::Wall,
            Place::Replies => Section::Replies,
            Place::Users => Section::Users,
            Place::Teams => Section::Teams,
            Place::Rules => Section::Rules,
            Place::Automation => Section::Automation,
            Place::Contacts(_) => Section::Contacts,
            Place::Reports => Section::Reports,
        }
    }

    /// The conversation open, if this is the inbox with one.
    pub fn conversation(self) -> Option<ConversationId> {
        match self {
            Place::Inbox(open) => open,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_place_reads_back_from_its_path() {
        for place in [
            Place::Inbox(None),
            Place::Inbox(Some(ConversationId(123))),
            Place::Wall,
            Place::Replies,
            Place::Users,
            Place::Teams,
            Place::Rules,
            Place::Automation,
            Place::Contacts(None),
            Place::Contacts(Some(ContactId(7))),
            Place::Reports,
        ] {
            assert_eq!(Place::parse(&place.path()), place, "{}", place.path());
        }
    }

    #[test]
    fn a_conversation_link_names_it() {
        assert_eq!(Place::parse("/c/42"), Place::Inbox(Some(ConversationId(42))));
        assert_eq!(Place::parse("/c/42/"), Place::Inbox(Some(ConversationId(42))));
        assert_eq!(Place::parse("/c/42").section(), Section::Inbox);
        assert_eq!(Place::parse("/c/42").conversation(), Some(ConversationId(42)));
    }

    #[test]
    fn an_unknown_or_malformed_path_is_the_inbox() {
        assert_eq!(Place::parse(""), Place::Inbox(None));
        assert_eq!(Place::parse("/nowhere"), Place::Inbox(None));
        assert_eq!(Place::parse("/c/not-a-number"), Place::Inbox(None));
        assert_eq!(Place::parse("/c"), Place::Inbox(None));
        assert_eq!(Place::parse("/wall/extra"), Place::Inbox(None));
    }
}
