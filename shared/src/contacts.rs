//! Contacts as the team keeps them: the record beside WhatsApp's own fields (a display name the
//! team may set, email, company, labels, a blocked flag, custom attributes), the attributes admins
//! define and how each kind's values are checked ([`AttributeDef::check`], [`AttributeDef::read`]),
//! an edit ([`ContactPatch`]) and its audit entries ([`ContactChange`]), the Contacts page's list,
//! the profile's conversations, and CSV import's report. One implementation of every check, used
//! by the server and the app alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{ConversationId, TeamId};
use crate::model::{Contact, ConversationStatus, Direction, display_text, normalize_label};

/// The longest display name, company and attribute label.
pub const MAX_NAME_CHARS: usize = 120;
/// The longest email address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// The longest text attribute value.
pub const MAX_TEXT_VALUE_CHARS: usize = 500;
/// The most attributes admins may define.
pub const MAX_ATTRIBUTES: usize = 50;
/// The most choices of a one-of-a-list attribute.
pub const MAX_OPTIONS: usize = 50;
/// The most labels a contact has.
pub const MAX_CONTACT_LABELS: usize = 20;
/// The longest attribute key.
pub const MAX_KEY_CHARS: usize = 40;

/// What kind of value an attribute holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AttributeKind {
    Text,
    Number,
    /// A calendar day, written `2026-12-31`.
    Date,
    /// One of `options`, written as listed.
    Choice {
        options: Vec<String>,
    },
    YesNo,
}

/// An attribute admins define: its key (in the API and CSV headers), its label (on screen), its
/// kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AttributeDef {
    pub key: String,
    pub label: String,
    pub kind: AttributeKind,
}

/// `GET`/`PUT /api/contacts/attributes`: the definitions, in the order the card shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeDefinitions {
    pub attributes: Vec<AttributeDef>,
}

/// An attribute's value: yes/no, a number, or text (a date or a choice is text, checked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    YesNo(bool),
    Number(f64),
    Text(String),
}

// Numbers are finite (JSON has no NaN, and [`AttributeDef::check`] refuses it), so equality
// is total.
impl Eq for AttributeValue {}

impl AttributeValue {
    /// The value as shown and exported: yes/no, the number as written, the text.
    pub fn display(&self) -> String {
        match self {
            AttributeValue::YesNo(true) => "yes".into(),
            AttributeValue::YesNo(false) => "no".into(),
            AttributeValue::Number(number) => format!("{number}"),
            AttributeValue::Text(text) => text.clone(),
        }
    }
}

/// Whether `text` is a calendar day written `YYYY-MM-DD`.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else { return false };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return false;
    }
    let (Ok(year), Ok(month), Ok(day)) = (year.parse::<u32>(), month.parse::<u32>(), day.parse::<u32>()) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

impl AttributeDef {
    /// `value`, if it is one this attribute may hold (a choice as listed, whatever its case);
    /// else a sentence saying what it must be.
    pub fn check(&self, value: &AttributeValue) -> Result<AttributeValue, String> {
        let label = &self.label;
        match (&self.kind, value) {
            (AttributeKind::Text, AttributeValue::Text(text)) => {
                let text = text.trim();
                if text.chars().count() > MAX_TEXT_VALUE_CHARS {
                    return Err(format!("“{label}” may have at most {MAX_TEXT_VALUE_CHARS} characters."));
                }
                Ok(AttributeValue::Text(text.to_owned()))
            }
            (AttributeKind::Text, other) => Ok(AttributeValue::Text(other.display())),
            (AttributeKind::Number, AttributeValue::Number(number)) if number.is_finite() => {
                Ok(AttributeValue::Number(*number))
            }
            (AttributeKind::Number, _) => Err(format!("“{label}” must be a number, such as 12 or 4.5.")),
            (AttributeKind::Date, AttributeValue::Text(text)) if is_date(text.trim()) => {
                Ok(AttributeValue::Text(text.trim().to_owned()))
            }
            (AttributeKind::Date, _) => {
                Err(format!("“{label}” must be a date written year-month-day, such as 2026-12-31."))
            }
            (AttributeKind::Choice { options }, AttributeValue::Text(text)) => options
                .iter()
                .find(|option| option.to_lowercase() == text.trim().to_lowercase())
                .map(|option| AttributeValue::Text(option.clone()))
                .ok_or_else(|| format!("“{label}” must be one of: {}.", options.join(", "))),
            (AttributeKind::Choice { options }, _) => Err(format!("“{label}” must be one of: {}.", options.join(", "))),
            (AttributeKind::YesNo, AttributeValue::YesNo(yes)) => Ok(AttributeValue::YesNo(*yes)),
            (AttributeKind::YesNo, _) => Err(format!("“{label}” must be yes or no.")),
        }
    }

    /// A value written as text (a CSV cell, a form field): `None` for an empty one, else the
    /// value [`Self::check`] accepts.
    pub fn read(&self, text: &str) -> Result<Option<AttributeValue>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let value = match &self.kind {
            AttributeKind::Number => match text.replace(',', ".").parse::<f64>() {
                Ok(number) => AttributeValue::Number(number),
                Err(_) => return Err(format!("“{}” must be a number, such as 12 or 4.5.", self.label)),
            },
            AttributeKind::YesNo => match text.to_lowercase().as_str() {
                "yes" | "y" | "true" | "1" | "sim" | "s" => AttributeValue::YesNo(true),
                "no" | "n" | "false" | "0" | "não" | "nao" => AttributeValue::YesNo(false),
                _ => return Err(format!("“{}” must be yes or no.", self.label)),
            },
            _ => AttributeValue::Text(text.to_owned()),
        };
        self.check(&value).map(Some)
    }
}

/// Whether `key` may name an attribute: a lowercase letter, then lowercase letters, digits and
/// `_`, at most [`MAX_KEY_CHARS`]; not one of the contact's own columns in CSV.
fn key_is_valid(key: &str) -> bool {
    let mut characters = key.chars();
    characters.next().is_some_and(|first| first.is_ascii_lowercase())
        && characters.all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_')
        && key.len() <= MAX_KEY_CHARS
        && !CSV_COLUMNS.contains(&key)
}

/// The attribute definitions as an admin saved them, checked: each key valid and used once,
/// labels present, choices listed. `Err` is a sentence naming the first problem.
pub fn check_definitions(definitions: &[AttributeDef]) -> Result<(), String> {
    if definitions.len() > MAX_ATTRIBUTES {
        return Err(format!("At most {MAX_ATTRIBUTES} attributes may be defined."));
    }
    for (index, definition) in definitions.iter().enumerate() {
        let key = &definition.key;
        if !key_is_valid(key) {
            return Err(format!(
                "The key “{key}” is not valid: start with a lowercase letter, then use lowercase letters, digits \
                 and _ (at most {MAX_KEY_CHARS}); phone, name, email, company, labels and blocked are taken."
            ));
        }
        if definitions[..index].iter().any(|earlier| earlier.key == *key) {
            return Err(format!("The key “{key}” is used twice."));
        }
        let label = definition.label.trim();
        if label.is_empty() || label.chars().count() > MAX_NAME_CHARS {
            return Err(format!("The attribute “{key}” needs a label of 1 to {MAX_NAME_CHARS} characters."));
        }
        if let AttributeKind::Choice { options } = &definition.kind {
            if options.is_empty() || options.len() > MAX_OPTIONS {
                return Err(format!("“{label}” needs from 1 to {MAX_OPTIONS} choices."));
            }
            for (at, option) in options.iter().enumerate() {
                if option.trim().is_empty() || option.chars().count() > MAX_NAME_CHARS {
                    return Err(format!("“{label}” has an empty or too long choice."));
                }
                if options[..at].iter().any(|earlier| earlier.to_lowercase() == option.to_lowercase()) {
                    return Err(format!("“{label}” lists the choice “{option}” twice."));
                }
            }
        }
    }
    Ok(())
}

/// The contact's own columns in CSV, in order; each attribute follows as a column named by its
/// key.
pub const CSV_COLUMNS: [&str; 6] = ["phone", "name", "email", "company", "labels", "blocked"];

/// Whether `email` looks like an address: something, one `@`, a domain with a dot, no spaces.
pub fn email_is_valid(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
        && email.chars().count() <= MAX_EMAIL_CHARS
}

/// A contact's labels as stored: each normalized as a conversation's are, once each, at most
/// [`MAX_CONTACT_LABELS`].
pub fn normalize_contact_labels(labels: &[String]) -> Result<Vec<String>, String> {
    let mut normalized: Vec<String> = Vec::new();
    for label in labels {
        let label = normalize_label(label)?;
        if !normalized.contains(&label) {
            normalized.push(label);
        }
    }
    if normalized.len() > MAX_CONTACT_LABELS {
        return Err(format!("A contact may have at most {MAX_CONTACT_LABELS} labels."));
    }
    Ok(normalized)
}

/// A contact with everything the team keeps about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRecord {
    /// WhatsApp's fields, the display name and the blocked flag (as conversations carry them).
    pub contact: Contact,
    /// The number in E.164 (`+919876543210`).
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub labels: Vec<String>,
    /// By attribute key; a key no longer defined is kept, and shown under its key.
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeValue>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last edit by the team (or import); `None` if never edited.
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// Conversations with this customer that the reader may see; absent where readers differ
    /// (a push to everyone who may see the customer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversations: Option<u32>,
}

/// An edit of a contact: only the fields present change. An empty display name, email or
/// company clears it; an attribute set to `null` is removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, Option<AttributeValue>>,
}

impl ContactPatch {
    pub fn is_empty(&self) -> bool {
        self == &ContactPatch::default()
    }

    /// The edit as stored: names trimmed and cleaned of disguising characters, labels
    /// normalized, each attribute checked against its definition. `Err` is a sentence naming
    /// the first problem.
    pub fn checked(&self, definitions: &[AttributeDef]) -> Result<ContactPatch, String> {
        let text = |value: &Option<String>, what: &str, limit: usize| -> Result<Option<String>, String> {
            let Some(value) = value else { return Ok(None) };
            let value = display_text(value).trim().to_owned();
            if value.chars().count() > limit {
                return Err(format!("The {what} may have at most {limit} characters."));
            }
            Ok(Some(value))
        };
        let email = text(&self.email, "email", MAX_EMAIL_CHARS)?;
        if let Some(email) = email.as_deref().filter(|email| !email.is_empty())
            && !email_is_valid(email)
        {
            return Err(format!("“{email}” is not an email address."));
        }
        let mut attributes = BTreeMap::new();
        for (key, value) in &self.attributes {
            let value = match value {
                Some(AttributeValue::Text(text)) if text.trim().is_empty() => None,
                other => other.clone(),
            };
            let definition = definitions.iter().find(|definition| definition.key == *key);
            let value = match (value, definition) {
                (Some(value), Some(definition)) => Some(definition.check(&value)?),
                (Some(_), None) => return Err(format!("No attribute “{key}” is defined.")),
                // Clearing needs no definition: a value kept from an attribute since removed
                // can still be taken off.
                (None, _) => None,
            };
            attributes.insert(key.clone(), value);
        }
        Ok(ContactPatch {
            display_name: text(&self.display_name, "display name", MAX_NAME_CHARS)?,
            email,
            company: text(&self.company, "company", MAX_NAME_CHARS)?,
            labels: self.labels.as_deref().map(normalize_contact_labels).transpose()?,
            blocked: self.blocked,
            attributes,
        })
    }
}

/// One audited change of a contact's field: who, when, the old value and the new, as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactChange {
    pub at: i64,
    /// Who made it (a teammate, "Baton", or the importing admin).
    pub by: String,
    /// `display_name`, `email`, `company`, `labels`, `blocked`, or `attribute:<key>`.
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// How the Contacts page sorts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactSort {
    /// The customer who wrote last first.
    #[default]
    Recent,
    /// By name, A to Z.
    Name,
    /// The newest contact first.
    Created,
}

/// `GET /api/contacts`: the Contacts page's list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactListRequest {
    /// Words of a name, email, company or attribute, or digits of the number.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    /// Contacts whose attribute `attribute` equals `value` (as written, for any kind).
    #[serde(default)]
    pub attribute: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub blocked: Option<bool>,
    #[serde(default)]
    pub sort: ContactSort,
    #[serde(default)]
    pub offset: Option<u32>,
    /// At most 100 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `GET /api/contacts`'s answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactList {
    pub contacts: Vec<ContactRecord>,
    /// Contacts matching, in all.
    pub total: u32,
}

/// A conversation's first or last message, in a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePreview {
    pub at: i64,
    pub direction: Direction,
    pub text: String,
}

/// One conversation with a customer, as their profile lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactConversation {
    pub id: ConversationId,
    pub status: ConversationStatus,
    pub team: Option<TeamId>,
    /// Who holds it now, or (resolved) who held it last.
    pub handled_by: Option<String>,
    pub created_at: i64,
    pub first: Option<MessagePreview>,
    pub last: Option<MessagePreview>,
}

/// `GET /api/contacts/{id}`: the profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactProfile {
    pub record: ContactRecord,
    /// Newest first; only those the asker may see.
    pub conversations: Vec<ContactConversation>,
    /// Whether the asker may edit the contact.
    pub editable: bool,
}

/// What the CSV import makes of one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    Create,
    Update,
}

/// A good row of an import, as the preview shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    /// The line in the file (the header is line 1).
    pub line: u32,
    pub phone: String,
    pub name: String,
    pub action: ImportAction,
}

/// A row refused, by line number, with a sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    pub line: u32,
    pub message: String,
}

/// `POST /api/contacts/import`'s answer: what the file holds, and whether it was imported —
/// only if asked to (`?commit=true`) and every row is good; else nothing is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u32,
    pub creates: u32,
    pub updates: u32,
    /// The first rows, as they would be imported.
    pub preview: Vec<ImportRow>,
    pub problems: Vec<ImportProblem>,
    pub committed: bool,
}

/// A contact's name as the team sees it: the display name the team set, else WhatsApp's profile
/// name, else the number.
pub fn shown_name(contact: &Contact) -> String {
    contact
        .display_name
        .as_deref()
        .filter(|name| !name.trim().is_empty())
        .or(Some(contact.profile_name.as_str()).filter(|name| !name.trim().is_empty()))
        .map_or_else(|| format!("+{}", contact.wa_id), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ContactId;

    fn def(kind: AttributeKind) -> AttributeDef {
        AttributeDef { key: "k".into(), label: "Plan".into(), kind }
    }

    #[test]
    fn values_are_checked_by_kind_with_a_sentence() {
        let choice = def(AttributeKind::Choice { options: vec!["Free".into(), "Pro".into()] });
        assert_eq!(choice.read(" pro "), Ok(Some(AttributeValue::Text("Pro".into()))));
        assert_eq!(choice.read("gold"), Err("“Plan” must be one of: Free, Pro.".into()));
        let number = def(AttributeKind::Number);
        assert_eq!(number.read("4,5"), Ok(Some(AttributeValue::Number(4.5))));
        assert!(number.read("four").is_err());
        assert!(number.check(&AttributeValue::Text("4".into())).is_err());
        let date = def(AttributeKind::Date);
        assert!(date.read("2028-02-29").is_ok());
        assert!(date.read("2027-02-29").is_err(), "not a leap year");
        assert!(date.read("31/12/2026").is_err());
        let yes_no = def(AttributeKind::YesNo);
        assert_eq!(yes_no.read("Sim"), Ok(Some(AttributeValue::YesNo(true))));
        assert!(yes_no.check(&AttributeValue::Text("maybe".into())).is_err());
        assert_eq!(def(AttributeKind::Text).read("  "), Ok(None));
    }

    #[test]
    fn definitions_need_valid_unique_keys_and_choices() {
        let good = vec![def(AttributeKind::Text)];
        assert!(check_definitions(&good).is_ok());
        let twice = vec![def(AttributeKind::Text), def(AttributeKind::Number)];
        assert!(check_definitions(&twice).expect_err("a key used twice").contains("twice"));
        let mut bad_key = def(AttributeKind::Text);
        bad_key.key = "Phone".into();
        assert!(check_definitions(&[bad_key.clone()]).is_err());
        bad_key.key = "phone".into();
        assert!(check_definitions(&[bad_key]).is_err(), "a contact column's name is taken");
        assert!(check_definitions(&[def(AttributeKind::Choice { options: vec![] })]).is_err());
    }

    #[test]
    fn an_edit_is_checked_against_the_definitions() {
        let definitions =
            vec![AttributeDef { key: "seats".into(), label: "Seats".into(), kind: AttributeKind::Number }];
        let mut patch = ContactPatch { email: Some(" ana@example.com ".into()), ..ContactPatch::default() };
        patch.attributes.insert("seats".into(), Some(AttributeValue::Number(3.0)));
        let checked = patch.checked(&definitions).expect("a good edit");
        assert_eq!(checked.email.as_deref(), Some("ana@example.com"));
        patch.attributes.insert("seats".into(), Some(AttributeValue::Text("three".into())));
        assert_eq!(patch.checked(&definitions), Err("“Seats” must be a number, such as 12 or 4.5.".into()));
        patch.attributes.clear();
        patch.attributes.insert("tier".into(), Some(AttributeValue::Text("gold".into())));
        assert_eq!(patch.checked(&definitions), Err("No attribute “tier” is defined.".into()));
        // A value kept from an attribute since removed may still be cleared.
        patch.attributes.insert("tier".into(), None);
        assert_eq!(patch.checked(&definitions).map(|checked| checked.attributes.len()), Ok(1));
        let bad = ContactPatch { email: Some("ana".into()), ..ContactPatch::default() };
        assert!(bad.checked(&definitions).is_err());
    }

    #[test]
    fn emails_and_names() {
        assert!(email_is_valid("ana@example.com"));
        assert!(!email_is_valid("ana@example"));
        assert!(!email_is_valid("ana lima@example.com"));
        let contact = Contact {
            id: ContactId(1),
            wa_id: "5511".into(),
            profile_name: String::new(),
            last_inbound_at: None,
            window_closed_at: None,
            display_name: None,
            blocked: false,
        };
        assert_eq!(shown_name(&contact), "+5511");
    }
}
