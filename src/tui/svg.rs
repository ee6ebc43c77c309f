//! Writes a rendered console buffer as an SVG picture: the screenshots in
//! `screenshots/` come from the real drawing code, not from a mock-up.

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const CELL_W: f64 = 8.4;
const CELL_H: f64 = 17.0;

fn hex(c: Color, default: &str) -> String {
    match c {
        Color::Reset => default.to_string(),
        Color::Black => "#1e1e1e".into(),
        Color::Red => "#e05252".into(),
        Color::Green => "#5fb85f".into(),
        Color::Yellow => "#d7b443".into(),
        Color::Blue => "#5b8fd9".into(),
        Color::Magenta => "#c678dd".into(),
        Color::Cyan => "#4fb8c9".into(),
        Color::Gray => "#b0b0b0".into(),
        Color::DarkGray => "#7a7a7a".into(),
        Color::LightRed => "#ff7b7b".into(),
        Color::LightGreen => "#8be28b".into(),
        Color::LightYellow => "#f0e08a".into(),
        Color::LightBlue => "#8ab4f8".into(),
        Color::LightMagenta => "#e0a0f0".into(),
        Color::LightCyan => "#8ee8f5".into(),
        Color::White => "#f0f0f0".into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(_) => default.to_string(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn buffer_svg(buf: &Buffer) -> String {
    let area = buf.area;
    let (bg_default, fg_default) = ("#1b1d23", "#d8d8d8");
    let width = area.width as f64 * CELL_W;
    let height = area.height as f64 * CELL_H;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="{bg_default}"/>"#
    );
    for y in 0..area.height {
        for x in 0..area.width {
            let cell = &buf[(x, y)];
            let reversed = cell.modifier.contains(Modifier::REVERSED);
            let (fg, bg) = if reversed {
                (cell.bg, cell.fg)
            } else {
                (cell.fg, cell.bg)
            };
            let bg_hex = if reversed {
                hex(bg, fg_default)
            } else {
                hex(bg, bg_default)
            };
            if bg_hex != bg_default {
                let _ = writeln!(
                    out,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{CELL_H}" fill="{bg_hex}"/>"#,
                    x as f64 * CELL_W,
                    y as f64 * CELL_H,
                    CELL_W + 0.2
                );
            }
            let sym = cell.symbol();
            if sym.trim().is_empty() {
                continue;
            }
            let fg_hex = if reversed {
                hex(fg, bg_default)
            } else {
                hex(fg, fg_default)
            };
            let weight = if cell.modifier.contains(Modifier::BOLD) {
                r#" font-weight="bold""#
            } else {
                ""
            };
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" fill="{fg_hex}"{weight}>{}</text>"#,
                x as f64 * CELL_W,
                y as f64 * CELL_H + 13.0,
                escape(sym)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}
