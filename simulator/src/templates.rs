//! Message templates: the catalog `GET /{waba_id}/message_templates` lists (in Meta's shape), the checks a
//! template send must pass (132000 / 132001 / 132015 / 132016, contract §7.2), and the text a template
//! renders to on the customer's phone.

use baton_whatsapp::graph::{ButtonSubType, ComponentKind, Parameter, Template};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ids;

/// One template as Meta lists it. `components` are kept as JSON in Meta's own shape
/// (`{"type": "BODY", "text": "Hi {{1}}", "example": …}`, `{"type": "BUTTONS", "buttons": […]}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateDefinition {
    pub name: String,
    #[serde(default = "positional")]
    pub parameter_format: String,
    pub components: Vec<Value>,
    /// e.g. `en_US`.
    pub language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`.
    pub status: String,
    /// `UTILITY`, `MARKETING` or `AUTHENTICATION`.
    pub category: String,
    #[serde(default = "ids::template_id")]
    pub id: String,
}

fn positional() -> String {
    "POSITIONAL".to_owned()
}

impl TemplateDefinition {
    /// An approved template with a body text (placeholders `{{1}}`, `{{2}}`…) and optional quick-reply buttons.
    pub fn approved(name: &str, language: &str, category: &str, body: &str, quick_replies: &[&str]) -> Self {
        let placeholders = placeholder_count(body);
        let mut body_component = json!({"type": "BODY", "text": body});
        if placeholders > 0 {
            let examples: Vec<String> = (1..=placeholders).map(|index| format!("example {index}")).collect();
            body_component["example"] = json!({"body_text": [examples]});
        }
        let mut components = vec![body_component];
        if !quick_replies.is_empty() {
            let buttons: Vec<Value> =
                quick_replies.iter().map(|text| json!({"type": "QUICK_REPLY", "text": text})).collect();
            components.push(json!({"type": "BUTTONS", "buttons": buttons}));
        }
        Self {
            name: name.to_owned(),
            parameter_format: positional(),
            components,
            language: language.to_owned(),
            status: "APPROVED".to_owned(),
            category: category.to_owned(),
            id: ids::template_id(),
        }
    }

    fn component_text(&self, kind: &str) -> Option<&str> {
        self.components
            .iter()
            .find(|component| component.get("type").and_then(Value::as_str) == Some(kind))
            .and_then(|component| component.get("text"))
            .and_then(Value::as_str)
    }

    /// The texts of the quick-reply buttons, in order.
    pub fn quick_replies(&self) -> Vec<String> {
        self.components
            .iter()
            .filter(|component| component.get("type").and_then(Value::as_str) == Some("BUTTONS"))
            .filter_map(|component| component.get("buttons").and_then(Value::as_array))
            .flatten()
            .filter(|button| button.get("type").and_then(Value::as_str) == Some("QUICK_REPLY"))
            .filter_map(|button| button.get("text").and_then(Value::as_str).map(str::to_owned))
            .collect()
    }

    /// The pricing category status webhooks report for it (`utility`, `marketing`…).
    pub(crate) fn pricing_category(&self) -> String {
        self.category.to_ascii_lowercase()
    }
}

/// Three approved templates: `order_update` (two body parameters, a quick reply), `follow_up` (no
/// parameters, two quick replies: the usual way back into a closed window) and `appointment_reminder` in
/// Spanish (non-ASCII text).
pub fn default_templates() -> Vec<TemplateDefinition> {
    vec![
        TemplateDefinition::approved(
            "order_update",
            "en_US",
            "UTILITY",
            "Hi {{1}}, your order {{2}} is on its way.",
            &["Talk to an agent"],
        ),
        TemplateDefinition::approved(
            "follow_up",
            "en_US",
            "UTILITY",
            "Hello! We are following up on your recent conversation with us. Would you like to continue?",
            &["Yes, please", "No, thanks"],
        ),
        TemplateDefinition::approved(
            "appointment_reminder",
            "es_ES",
            "UTILITY",
            "Hola {{1}}, le recordamos su cita del {{2}}. ¿Nos vemos allí?",
            &["Sí", "Cambiar la cita"],
        ),
    ]
}

/// The body of `GET /{waba_id}/message_templates`: `{"data": […], "paging": {"cursors": …}}`, optionally
/// filtered by `name` (Meta matches names containing it).
pub(crate) fn listing(catalog: &[TemplateDefinition], name: Option<&str>) -> Value {
    let data: Vec<&TemplateDefinition> =
        catalog.iter().filter(|template| name.is_none_or(|name| template.name.contains(name))).collect();
    json!({
        "data": data,
        "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}},
    })
}

/// Why a template send is refused: a Graph error code and its `details`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: i64,
    pub(crate) details: String,
}

/// Finds the template a send names and checks its status and parameter counts, as Meta does before
/// accepting it.
pub(crate) fn check(catalog: &[TemplateDefinition], template: &Template) -> Result<TemplateDefinition, Refusal> {
    let language = &template.language.code;
    let Some(definition) =
        catalog.iter().find(|candidate| candidate.name == template.name && &candidate.language == language)
    else {
        return Err(Refusal {
            code: 132001,
            details: format!("template name ({}) does not exist in {language}", template.name),
        });
    };
    match definition.status.as_str() {
        "APPROVED" => {}
        "PAUSED" => return Err(Refusal { code: 132015, details: format!("Template {} is paused", template.name) }),
        "DISABLED" => {
            return Err(Refusal { code: 132016, details: format!("Template {} is disabled", template.name) });
        }
        other => {
            return Err(Refusal { code: 132001, details: format!("Template {} is {other}", template.name) });
        }
    }
    for (kind, label, meta_kind) in [(ComponentKind::Header, "header", "HEADER"), (ComponentKind::Body, "body", "BODY")]
    {
        let expected = definition.component_text(meta_kind).map_or(0, placeholder_count);
        let given = parameters_of(template, kind).map_or(0, <[Parameter]>::len);
        // A header can hold media instead of text placeholders; only text headers are counted.
        let counted = kind == ComponentKind::Body || definition.component_text(meta_kind).is_some();
        if counted && expected != given {
            return Err(Refusal {
                code: 132000,
                details: format!(
                    "{label}: number of localizable_params ({given}) does not match the expected number of params \
                     ({expected})"
                ),
            });
        }
    }
    Ok(definition.clone())
}

fn parameters_of(template: &Template, kind: ComponentKind) -> Option<&[Parameter]> {
    template.components.iter().find(|component| component.kind == kind).map(|component| component.parameters.as_slice())
}

/// A template as the customer sees it: its body with the values filled in, and its quick-reply buttons as
/// (payload, text). Meta sends the button text as the payload when the send gave none.
pub(crate) struct Rendered {
    pub(crate) text: String,
    pub(crate) quick_replies: Vec<(String, String)>,
}

pub(crate) fn render(definition: &TemplateDefinition, template: &Template) -> Rendered {
    let body = definition.component_text("BODY").unwrap_or_default();
    let values: Vec<String> =
        parameters_of(template, ComponentKind::Body).unwrap_or_default().iter().map(parameter_text).collect();
    let mut text = body.to_owned();
    for (index, value) in values.iter().enumerate().rev() {
        // Reverse order so that `{{1}}` never clobbers the start of `{{10}}`.
        text = text.replace(&format!("{{{{{}}}}}", index + 1), value);
    }
    let quick_replies = definition
        .quick_replies()
        .into_iter()
        .enumerate()
        .map(|(position, title)| {
            let payload = template
                .components
                .iter()
                .find(|component| {
                    component.kind == ComponentKind::Button
                        && component.sub_type == Some(ButtonSubType::QuickReply)
                        && component.index.as_deref() == Some(position.to_string().as_str())
                })
                .and_then(|component| {
                    component.parameters.iter().find_map(|parameter| match parameter {
                        Parameter::Payload { payload } => Some(payload.clone()),
                        _ => None,
                    })
                })
                .unwrap_or_else(|| title.clone());
            (payload, title)
        })
        .collect();
    Rendered { text, quick_replies }
}

fn parameter_text(parameter: &Parameter) -> String {
    match parameter {
        Parameter::Text { text } => text.clone(),
        Parameter::Currency { currency } => currency.fallback_value.clone(),
        Parameter::DateTime { date_time } => date_time.fallback_value.clone(),
        Parameter::Payload { payload } => payload.clone(),
        Parameter::Image { .. } | Parameter::Video { .. } | Parameter::Document { .. } => "[media]".to_owned(),
    }
}

/// How many distinct `{{n}}` placeholders a text holds.
fn placeholder_count(text: &str) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        rest = &rest[start + 2..];
        if let Some(end) = rest.find("}}") {
            let inside = &rest[..end];
            if !inside.is_empty() && inside.bytes().all(|byte| byte.is_ascii_digit()) {
                seen.insert(inside.to_owned());
            }
            rest = &rest[end + 2..];
        }
    }
    seen.len()
}

#[cfg(test)]
mod tests {
    use baton_whatsapp::graph::{Component, Language};

    use super::*;

    fn order_update(values: &[&str]) -> Template {
        let parameters = values.iter().map(|value| Parameter::text(*value)).collect();
        Template::new("order_update", Language::new("en_US")).with_components(vec![Component::body(parameters)])
    }

    #[test]
    fn counts_placeholders() {
        assert_eq!(placeholder_count("Hi {{1}}, order {{2}}, again {{1}}"), 2);
        assert_eq!(placeholder_count("no placeholders {{x}}"), 0);
    }

    #[test]
    fn checks_name_language_status_and_parameters() {
        let catalog = default_templates();
        assert!(check(&catalog, &order_update(&["Alice", "#1042"])).is_ok());
        assert_eq!(check(&catalog, &order_update(&["Alice"])).map_err(|refusal| refusal.code), Err(132000));
        let missing = Template::new("nope", Language::new("en_US"));
        assert_eq!(check(&catalog, &missing).map_err(|refusal| refusal.code), Err(132001));
        let wrong_language = Template::new("follow_up", Language::new("de_DE"));
        assert_eq!(check(&catalog, &wrong_language).map_err(|refusal| refusal.code), Err(132001));
        let mut paused = catalog.clone();
        paused[1].status = "PAUSED".to_owned();
        let follow_up = Template::new("follow_up", Language::new("en_US"));
        assert_eq!(check(&paused, &follow_up).map_err(|refusal| refusal.code), Err(132015));
    }

    #[test]
    fn renders_values_and_quick_replies() {
        let catalog = default_templates();
        let template = order_update(&["Alice", "#1042"]);
        let rendered = render(&catalog[0], &template);
        assert_eq!(rendered.text, "Hi Alice, your order #1042 is on its way.");
        assert_eq!(rendered.quick_replies, vec![("Talk to an agent".to_owned(), "Talk to an agent".to_owned())]);
    }
}
