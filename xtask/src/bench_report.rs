//! `docs/benchmarks.md`: the top table that `cargo xtask bench [all|native|browser]` rewrites,
//! then the sections that `bench gpu`, `bench mnist` and `bench seq` each replace alone, then the hand-written
//! MNIST accuracy figures; a run changes its own part and keeps the rest.

use crate::command::{Result, output, root};
use std::process::Command;

/// The sections after the top table, in this order: the ones `cargo xtask bench gpu` and
/// `cargo xtask bench mnist` write, then the MNIST accuracy figures of `cargo xtask mnist`
/// (written by hand). A run that rewrites the top table keeps all of them as they were.
pub const SECTIONS: [&str; 4] = [
    GPU_SPEED_HEADING,
    MNIST_SPEED_HEADING,
    SEQUENCE_SPEED_HEADING,
    MNIST_ACCURACY_HEADING,
];
pub const GPU_SPEED_HEADING: &str = "## GPU speed";
pub const MNIST_SPEED_HEADING: &str = "## MNIST speed";
pub const SEQUENCE_SPEED_HEADING: &str = "## Sequence speed";
pub const MNIST_ACCURACY_HEADING: &str = "## MNIST";

/// One run's report: the table's lines (`name | ours | reference | ratio`) and notes.
pub struct Report<'a> {
    /// The bench group that measured it (`all`, `gpu`, ...).
    pub group: &'a str,
    /// The section it replaces ([`GPU_SPEED_HEADING`] or [`MNIST_SPEED_HEADING`]); `None` for
    /// the top table.
    pub section: Option<&'static str>,
    /// What the table shows, after the line saying who wrote it.
    pub introduction: &'a str,
    pub lines: Vec<&'a str>,
    pub notes: &'a [String],
    /// Whether the figures were read from another machine's saved outputs (`bench gpu --from`),
    /// so that the report does not name this machine's processor as theirs.
    pub measured_elsewhere: bool,
}

/// Writes `report` to `docs/benchmarks.md`: the top table (keeping the [`SECTIONS`] after it) or
/// its section alone.
pub fn write(report: &Report) -> Result {
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d"])).unwrap_or_default();
    let lscpu = output(&mut Command::new("lscpu")).unwrap_or_default();
    let field = |name: &str| {
        lscpu
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map_or("unknown".to_string(), |value| value.trim().to_string())
    };
    let written_by = if report.measured_elsewhere {
        format!(
            "Written by `cargo xtask bench {} --from` on {} from the saved outputs of a run on \
             another machine (its GPU and software are in the notes).",
            report.group,
            date.trim(),
        )
    } else {
        format!(
            "Written by `cargo xtask bench {}` on {}, {} ({} CPUs).",
            report.group,
            date.trim(),
            field("Model name:"),
            field("CPU(s):"),
        )
    };
    let mut table = "| name | ours | reference | ratio |\n|---|---|---|---|\n".to_string();
    for line in &report.lines {
        table.push_str(&format!("| {line} |\n"));
    }
    let note_list: String = report
        .notes
        .iter()
        .map(|note| format!("- {note}\n"))
        .collect();
    let path = root().join("docs/benchmarks.md");
    let previous = std::fs::read_to_string(&path).unwrap_or_default();
    let introduction = report.introduction;
    let text = match report.section {
        Some(heading) => {
            let section = format!(
                "{heading}\n\n{written_by} {introduction}\n\n{table}\n### Notes\n\n{note_list}"
            );
            with_section(&previous, heading, &section)
        }
        None => format!(
            "# Benchmarks\n\n{written_by} {introduction}\n\n{table}\n## Notes\n\n{note_list}{}",
            kept_sections(&previous)
        ),
    };
    std::fs::write(&path, text)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    eprintln!("\nWrote {}", path.display());
    Ok(())
}

/// Where the line `heading` is in `text` (the index of the line break before it): a whole line,
/// so that `## MNIST` is not found in `## MNIST speed`.
fn find_heading(text: &str, heading: &str) -> Option<usize> {
    let line = format!("\n{heading}");
    text.match_indices(&line)
        .map(|(start, _)| start)
        .find(|&start| matches!(text[start + line.len()..].chars().next(), None | Some('\n')))
}

/// What a rewrite of the top table keeps of `previous`: everything from the first of the
/// [`SECTIONS`] on.
fn kept_sections(previous: &str) -> &str {
    SECTIONS
        .iter()
        .filter_map(|heading| find_heading(previous, heading))
        .min()
        .map_or("", |start| &previous[start..])
}

/// `previous` with its section under `heading` replaced by `section`, or with `section` added
/// before the first section that follows it in [`SECTIONS`] (at the end if there is none); the
/// rest is untouched.
fn with_section(previous: &str, heading: &str, section: &str) -> String {
    let (before, after) = match find_heading(previous, heading) {
        Some(start) => {
            let body = start + 1 + heading.len();
            let end = previous[body..]
                .find("\n## ")
                .map_or(previous.len(), |next| body + next);
            (&previous[..start], &previous[end..])
        }
        None => {
            let later = SECTIONS
                .iter()
                .skip_while(|&&other| other != heading)
                .skip(1);
            match later
                .filter_map(|other| find_heading(previous, other))
                .min()
            {
                Some(start) => (&previous[..start], &previous[start..]),
                None => (previous.trim_end(), "\n"),
            }
        }
    };
    let before = match before.trim_end() {
        "" => "# Benchmarks",
        text => text,
    };
    format!("{before}\n\n{section}{after}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mnist_speed_section_is_added_then_replaced_and_the_rest_kept() {
        let previous = "# Benchmarks\n\n| top |\n\n## Notes\n\n- a\n\n## MNIST\n\nhand-made\n";
        let first = with_section(previous, MNIST_SPEED_HEADING, "## MNIST speed\n\nv1\n");
        assert_eq!(
            first,
            "# Benchmarks\n\n| top |\n\n## Notes\n\n- a\n\n## MNIST speed\n\nv1\n\n\
             ## MNIST\n\nhand-made\n"
        );
        let second = with_section(
            &first,
            MNIST_SPEED_HEADING,
            "## MNIST speed\n\nv2\n### Notes\n",
        );
        assert_eq!(
            second,
            "# Benchmarks\n\n| top |\n\n## Notes\n\n- a\n\n## MNIST speed\n\nv2\n### Notes\n\n\
             ## MNIST\n\nhand-made\n"
        );
        assert_eq!(
            with_section("", MNIST_SPEED_HEADING, "## MNIST speed\n\nv1\n"),
            "# Benchmarks\n\n## MNIST speed\n\nv1\n\n"
        );
    }

    #[test]
    fn the_gpu_section_goes_before_the_mnist_ones_and_a_top_table_run_keeps_it() {
        let previous = "# Benchmarks\n\n| top |\n\n## Notes\n\n- a\n\n## MNIST speed\n\nm\n\n\
                        ## MNIST\n\nhand-made\n";
        let first = with_section(previous, GPU_SPEED_HEADING, "## GPU speed\n\ng1\n");
        assert_eq!(
            first,
            "# Benchmarks\n\n| top |\n\n## Notes\n\n- a\n\n## GPU speed\n\ng1\n\n\
             ## MNIST speed\n\nm\n\n## MNIST\n\nhand-made\n"
        );
        let second = with_section(&first, GPU_SPEED_HEADING, "## GPU speed\n\ng2\n");
        assert_eq!(second, first.replace("g1", "g2"));
        let third = with_section(&second, MNIST_SPEED_HEADING, "## MNIST speed\n\nm2\n");
        assert_eq!(third, second.replace("\nm\n", "\nm2\n"));
        assert_eq!(
            kept_sections(&third),
            "\n## GPU speed\n\ng2\n\n## MNIST speed\n\nm2\n\n## MNIST\n\nhand-made\n"
        );
        assert_eq!(kept_sections("# Benchmarks\n\n| top |\n"), "");
        assert_eq!(
            with_section(
                "# Benchmarks\n\n| top |\n",
                GPU_SPEED_HEADING,
                "## GPU speed\n\ng\n"
            ),
            "# Benchmarks\n\n| top |\n\n## GPU speed\n\ng\n\n"
        );
    }
}
