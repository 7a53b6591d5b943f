//! The app's languages: every user-visible text comes from one catalogue (`app/locales/*.yml`,
//! compiled in by `rust-i18n`) through `t!`. English is the default and the fallback for a
//! missing key; Brazilian Portuguese ships too. The language is the one chosen in the user menu
//! (kept in localStorage), or else the browser's; times and dates are written by the browser's
//! `Intl` in the user's locale and time zone ([`crate::format::clock_time`]).
//!
//! Choosing a language reloads the page: every view is then drawn in it, and nothing needs to
//! watch the language as it renders.

use leptos::prelude::*;

/// Where the choice is kept.
const SETTING: &str = "baton.language";

/// The languages shipped: a tag, and its name in itself.
pub const LANGUAGES: [(&str, &str); 2] = [("en", "English"), ("pt-BR", "Português")];

/// The shipped language for a BCP 47 tag the browser prefers (`pt`, `pt-PT`, `pt-BR` → `pt-BR`;
/// `en-GB` → `en`), if any.
pub fn shipped(tag: &str) -> Option<&'static str> {
    let primary = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    LANGUAGES.iter().map(|(shipped, _)| *shipped).find(|shipped| shipped.split('-').next() == Some(primary.as_str()))
}

/// Picks the language: the one kept from the user's choice, else the first of the browser's
/// preferred ones that is shipped, else English.
pub fn pick(kept: Option<&str>, preferred: &[String]) -> &'static str {
    kept.and_then(|kept| LANGUAGES.iter().map(|(tag, _)| *tag).find(|tag| *tag == kept))
        .or_else(|| preferred.iter().find_map(|tag| shipped(tag)))
        .unwrap_or("en")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The browser's preferred languages, most wanted first.
fn preferred() -> Vec<String> {
    let Some(navigator) = web_sys::window().map(|window| window.navigator()) else { return Vec::new() };
    let mut tags: Vec<String> = navigator.languages().iter().filter_map(|tag| tag.as_string()).collect();
    if tags.is_empty() {
        tags.extend(navigator.language());
    }
    tags
}

/// Sets the language at start (before anything is drawn) and on `<html lang>`.
pub fn init() {
    let kept = storage().and_then(|storage| storage.get_item(SETTING).ok().flatten());
    let language = pick(kept.as_deref(), &preferred());
    rust_i18n::set_locale(language);
    if let Some(root) = web_sys::window().and_then(|window| window.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("lang", language);
    }
}

/// The locale dates and times are written in: the browser's own when it is a variant of the
/// app's language (`en-GB` writes 24-hour times), else the app's language.
pub fn date_locale() -> String {
    let language = rust_i18n::locale().to_string();
    let primary = language.split('-').next().unwrap_or_default().to_owned();
    preferred()
        .into_iter()
        .find(|tag| tag.split(['-', '_']).next().is_some_and(|first| first.eq_ignore_ascii_case(&primary)))
        .unwrap_or(language)
}

/// The language menu of the top bar.
#[component]
pub fn LanguageMenu() -> impl IntoView {
    let current = rust_i18n::locale().to_string();
    let pick = move |event: leptos::ev::Event| {
        let chosen = event_target_value(&event);
        if let Some(storage) = storage() {
            let _ = storage.set_item(SETTING, &chosen);
        }
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    };
    view! {
        <select id="language" class="theme-select" aria-label=t!("language.label").to_string() on:change=pick>
            {LANGUAGES
                .iter()
                .map(|(tag, name)| view! { <option value=*tag selected=current == *tag>{*name}</option> })
                .collect_view()}
        </select>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_language_picks_a_shipped_one() {
        let tags = |tags: &[&str]| tags.iter().map(|tag| (*tag).to_owned()).collect::<Vec<_>>();
        assert_eq!(pick(None, &tags(&["pt-BR", "en"])), "pt-BR");
        assert_eq!(pick(None, &tags(&["pt-PT"])), "pt-BR", "the Portuguese we have");
        assert_eq!(pick(None, &tags(&["de-DE", "en-GB"])), "en", "the first one shipped");
        assert_eq!(pick(None, &tags(&["de-DE"])), "en", "English when none is shipped");
        assert_eq!(pick(None, &[]), "en");
    }

    #[test]
    fn a_choice_wins_over_the_browser() {
        assert_eq!(pick(Some("en"), &["pt-BR".to_owned()]), "en");
        assert_eq!(pick(Some("pt-BR"), &["en-US".to_owned()]), "pt-BR");
        assert_eq!(pick(Some("klingon"), &["pt-BR".to_owned()]), "pt-BR", "an unknown choice is ignored");
    }

    /// The keys of a catalogue file (one `key: "text"` a line).
    fn keys(catalogue: &str) -> Vec<&str> {
        let mut keys: Vec<&str> = catalogue
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
            .filter_map(|line| line.split_once(':').map(|(key, _)| key.trim()))
            .collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn every_key_is_in_every_language() {
        let english = keys(include_str!("../locales/en.yml"));
        assert!(english.len() > 40, "the catalogue is read: {english:?}");
        assert_eq!(keys(include_str!("../locales/pt-BR.yml")), english);
    }

    #[test]
    fn texts_come_from_the_catalogue() {
        assert_eq!(t!("nav.inbox", locale = "en"), "Inbox");
        assert_eq!(t!("nav.inbox", locale = "pt-BR"), "Caixa de entrada");
        assert_eq!(t!("inbox.waiting", locale = "pt-BR", time = "há 4 min"), "esperando há 4 min");
        assert_eq!(t!("time.minutes", locale = "pt-BR", n = 4), "há 4 min");
    }
}
