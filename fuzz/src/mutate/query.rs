//! Structure-aware edits of saved query files: the TOML header's lines (`-- key = value`) get
//! values of other types or extreme ones, are repeated, dropped or lose their `--`; `[[params]]`
//! blocks are repeated or renamed; the SQL's `$name` placeholders are added, removed or broken.

use crate::rng::Rng;

/// Tokens for byte-level edits of query files.
pub const DICT: &[&[u8]] = &[
    b"-- ",
    b"--",
    b"\n",
    b"[[params]]",
    b"[[report]]",
    b"[[columns]]",
    b"[report.params]",
    b"name = ",
    b"type = ",
    b"default = ",
    b"allowed = ",
    b"min = ",
    b"max = ",
    b"\"\"\"",
    b"'''",
    b"$",
    b"$1",
    b"$$",
    b"'",
    b"\"",
    b"/*",
    b"*/",
    b"\\u0000",
    b"\\",
    b"=",
    b"#",
];

/// TOML values put in header lines.
const VALUES: &[&str] = &[
    "\"\"",
    "\"text\"",
    "\"int\"",
    "\"float\"",
    "\"bool\"",
    "\"date\"",
    "0",
    "-0",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "1e308",
    "1e999",
    "-1e999",
    "nan",
    "inf",
    "-inf",
    "0.5",
    "true",
    "false",
    "[]",
    "[1, \"a\"]",
    "[\"author\", \"author\"]",
    "[nan]",
    "{ a = 1 }",
    "1979-05-27",
    "1979-05-27T07:32:00Z",
    "\"\\u0000\"",
    "\"$x\"",
    "\"\"\"",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
];

/// Text put in the SQL part.
const SQL: &[&str] = &[
    "$x",
    "$",
    "$1",
    "$$ dollar $$",
    "$first_year$last_year",
    "'$first_year'",
    "\"$first_year\"",
    "-- $first_year\n",
    "/* $first_year */",
    "/* unterminated",
    "'unterminated",
    "\"unterminated",
    "$ÿ",
    "$first_year::int",
    "E'\\'$x'",
    ";",
];

/// Applies `1..=max_ops` edits to a query file's text.
pub fn mutate(rng: &mut Rng, text: &mut String, max_ops: usize) {
    let ops = 1 + rng.below(max_ops.max(1));
    for _ in 0..ops {
        edit(rng, text);
    }
}

fn edit(rng: &mut Rng, text: &mut String) {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    let header_len = lines
        .iter()
        .take_while(|l| l.trim_start().starts_with("--") || l.trim().is_empty())
        .count();
    if lines.is_empty() {
        text.push_str("-- name = \"q\"\n");
        return;
    }
    let h = rng.below(header_len.max(1));
    match rng.below(9) {
        // A value of another type.
        0 | 1 if header_len > 0 => {
            if let Some(eq) = lines[h].find('=') {
                lines[h] = format!("{} {}\n", &lines[h][..=eq], rng.pick(VALUES));
            }
        }
        // Repeat a header line or a whole `[[params]]` block.
        2 if header_len > 0 => {
            let end = (h + 1 + rng.below(8)).min(header_len);
            let block: Vec<String> = lines[h..end].to_vec();
            lines.splice(end..end, block);
        }
        // Drop a header line.
        3 if header_len > 0 => {
            lines.remove(h);
        }
        // A header line without its `--`: the header ends there.
        4 if header_len > 0 => {
            lines[h] = lines[h].trim_start().trim_start_matches('-').to_owned();
        }
        // A new key.
        5 => {
            let key = rng.pick(&[
                "name", "type", "min", "max", "default", "allowed", "order", "chart", "colour",
            ]);
            let line = format!("-- {key} = {}\n", rng.pick(VALUES));
            lines.insert(h.min(lines.len()), line);
        }
        // Text in the SQL.
        6 | 7 if header_len < lines.len() => {
            let i = header_len + rng.below(lines.len() - header_len);
            let line = &mut lines[i];
            let mut cut = rng.below(line.len() + 1);
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.insert_str(cut, rng.pick::<&str>(SQL));
        }
        // A placeholder removed from the SQL.
        _ => {
            let sql: String = lines[header_len..].concat();
            if let Some(at) = sql.find('$') {
                let end = sql[at + 1..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .map_or(sql.len(), |k| at + 1 + k);
                let value = rng.pick(&["1", "'x'", "NULL", ""]);
                let sql = format!("{}{value}{}", &sql[..at], &sql[end..]);
                lines.truncate(header_len);
                lines.push(sql);
            }
        }
    }
    *text = lines.concat();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_change_headers_and_sql() {
        let seed = "-- name = \"q\"\n-- title = \"T\"\n-- description = \"d\"\n-- [[params]]\n\
                    -- name = \"x\"\n-- type = \"int\"\n-- description = \"x\"\nSELECT $x\n";
        let mut rng = Rng::new(2);
        let mut changed = 0;
        for _ in 0..300 {
            let mut t = seed.to_owned();
            mutate(&mut rng, &mut t, 3);
            changed += usize::from(t != seed);
        }
        assert!(changed > 200, "{changed} of 300 changed");
    }
}
