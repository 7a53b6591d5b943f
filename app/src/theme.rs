//! Light and dark: the app follows the system's setting (`prefers-color-scheme`, through CSS
//! `color-scheme: light dark` in `style.css`) until the user picks one in the theme menu; the
//! choice is kept in localStorage and set as `data-theme` on `<html>`, which the stylesheet
//! obeys. `boot.js` sets it before the app loads, so a reload never flashes the other theme.

use leptos::prelude::*;

/// Where the choice is kept (`boot.js` reads the same key).
const SETTING: &str = "baton.theme";

/// The theme the user chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    /// Whatever the system says.
    System,
    Light,
    Dark,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn parse(value: &str) -> Theme {
        match value {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::System,
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The theme chosen before, or [`Theme::System`].
pub fn chosen() -> Theme {
    storage()
        .and_then(|storage| storage.get_item(SETTING).ok().flatten())
        .map_or(Theme::System, |value| Theme::parse(&value))
}

/// Shows `theme` and remembers it.
pub fn choose(theme: Theme) {
    if let Some(storage) = storage() {
        let _ = match theme {
            Theme::System => storage.remove_item(SETTING),
            _ => storage.set_item(SETTING, theme.as_str()),
        };
    }
    let Some(root) =
        web_sys::window().and_then(|window| window.document()).and_then(|document| document.document_element())
    else {
        return;
    };
    let _ = match theme {
        Theme::System => root.remove_attribute("data-theme"),
        _ => root.set_attribute("data-theme", theme.as_str()),
    };
}

/// The theme menu of the top bar: system, light or dark.
#[component]
pub fn ThemeMenu() -> impl IntoView {
    let theme = RwSignal::new(chosen());
    let pick = move |event: leptos::ev::Event| {
        let picked = Theme::parse(&event_target_value(&event));
        choose(picked);
        theme.set(picked);
    };
    let option = move |value: Theme, label: String| {
        view! { <option value=value.as_str() selected=move || theme.get() == value>{label}</option> }
    };
    view! {
        <select id="theme" class="theme-select" aria-label=t!("theme.label").to_string() on:change=pick>
            {option(Theme::System, t!("theme.system").to_string())}
            {option(Theme::Light, t!("theme.light").to_string())}
            {option(Theme::Dark, t!("theme.dark").to_string())}
        </select>
    }
}
