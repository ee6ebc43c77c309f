//! The shell completions and the manual page, from the same definitions
//! as `--help`.

use super::Cli;

/// Completions for `shell`, generated from the command line's definition.
pub(super) fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "journeyctl", &mut out);
    print_bytes(&out)
}

/// The manual page, generated from the command line's definition: one
/// page with every command's synopsis, description and options under
/// COMMANDS (no `journeyctl-stop(1)` pages to look for), and its `.TH`
/// title line first (clap_mangen puts a string definition before it).
pub(super) fn man_page() -> anyhow::Result<()> {
    let command = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone().disable_help_subcommand(true)).render(&mut out)?;
    let text = String::from_utf8_lossy(&out);
    let (title, rest): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with(".TH "));
    let mut page: Vec<String> = Vec::new();
    let mut skipping = false;
    for line in title.iter().chain(rest.iter()) {
        if line.starts_with(".SH ") {
            skipping = *line == ".SH SUBCOMMANDS";
            if skipping {
                page.push(".SH COMMANDS".into());
                for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
                    page.extend(command_part(sub)?);
                }
                continue;
            }
        }
        if !skipping {
            page.push(line.to_string());
        }
    }
    page.extend(TAIL.lines().map(str::to_string));
    let page: String = page.iter().map(|l| format!("{l}\n")).collect();
    print_bytes(page.as_bytes())
}

/// The sections a manual page is expected to have that `--help` has no
/// place for.
const TAIL: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
success
.TP
\fB1\fR
bad input, or a store that cannot be reached (one line on standard error says which)
.TP
\fB2\fR
a command line that cannot be parsed
.TP
\fB3\fR
an action refused: already stopped, not confirmed, a read-only session
.TP
\fB4\fR
\fBingest\fR skipped invalid lines (each named; every other line went in)
.SH ENVIRONMENT
.TP
\fBDATABASE_URL\fR
the store, where neither \fB--database-url\fR nor \fB--store\fR names one
.TP
\fBXDG_CONFIG_HOME\fR, \fBXDG_DATA_HOME\fR, \fBXDG_STATE_HOME\fR
where the config file, the default store and the log are
.TP
\fBNO_COLOR\fR
no colour, bold or reverse in the console
.TP
\fBUSER\fR
the operator named in the audit log, where \fB--actor\fR names none
.SH FILES
.TP
\fI$XDG_CONFIG_HOME/journeyctl/config.toml\fR
named stores and the console's keys
.TP
\fI$XDG_DATA_HOME/journeyctl/journeyctl.db\fR
the default store (SQLite)
.TP
\fI$XDG_STATE_HOME/journeyctl/journeyctl.log\fR
the log (never the screen)"#;

/// One command's part of the manual page: its synopsis, description and
/// options, under a subsection of its own.
fn command_part(sub: &clap::Command) -> anyhow::Result<Vec<String>> {
    let name = format!("journeyctl {}", sub.get_name());
    let mut out = Vec::new();
    clap_mangen::Man::new(sub.clone().bin_name(name.clone())).render(&mut out)?;
    let text = String::from_utf8_lossy(&out);
    let mut part = vec![format!(".SS \"{name}\"")];
    let mut seen_synopsis = false;
    for line in text.lines() {
        match line {
            ".SH SYNOPSIS" => seen_synopsis = true,
            ".SH DESCRIPTION" => part.push(".PP".into()),
            ".SH OPTIONS" => part.push(".PP\n\\fBOptions\\fR".into()),
            l if l.starts_with(".SH ") && seen_synopsis => break,
            l if seen_synopsis => part.push(l.to_string()),
            _ => {}
        }
    }
    Ok(part)
}

/// Writes to standard output; a reader that went away (`| head`) is not an
/// error.
fn print_bytes(bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
