//! Keys by name: as `[keys]` writes them, and as the screen shows them.

use ratatui::crossterm::event::KeyCode;

/// A key as written in `[keys]` and on screen: a character (`x`, `S`,
/// `/`) or a name (`Enter`, `Esc`, `Up`, `Down`, `Left`, `Right`,
/// `PageUp`, `PageDown`, `Home`, `End`, `Tab`, `Backspace`, `Delete`,
/// `Space`, `F1`-`F12`).
pub fn parse_key(text: &str) -> Result<KeyCode, String> {
    let mut chars = text.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return if c.is_control() || c == ' ' {
            Err(format!("{text:?} is not a key name (use Space, Tab, ...)"))
        } else {
            Ok(KeyCode::Char(c))
        };
    }
    Ok(match text {
        "Enter" => KeyCode::Enter,
        "Esc" => KeyCode::Esc,
        "Up" => KeyCode::Up,
        "Down" => KeyCode::Down,
        "Left" => KeyCode::Left,
        "Right" => KeyCode::Right,
        "PageUp" => KeyCode::PageUp,
        "PageDown" => KeyCode::PageDown,
        "Home" => KeyCode::Home,
        "End" => KeyCode::End,
        "Tab" => KeyCode::Tab,
        "Backspace" => KeyCode::Backspace,
        "Delete" => KeyCode::Delete,
        "Space" => KeyCode::Char(' '),
        f if f.starts_with('F') => match f[1..].parse::<u8>() {
            Ok(n @ 1..=12) => KeyCode::F(n),
            _ => return Err(format!("{text:?} is not a key")),
        },
        _ => return Err(format!("{text:?} is not a key")),
    })
}

/// A key as the help screen and the footer show it.
pub fn key_name(key: KeyCode) -> String {
    match key {
        KeyCode::Char(' ') => "Space".into(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::F(n) => format!("F{n}"),
        other => format!("{other:?}"),
    }
}
