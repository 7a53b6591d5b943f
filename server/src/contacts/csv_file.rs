//! Contacts as CSV: reading an import (each row checked, problems by line number) and writing an
//! export, with the same columns — `phone,name,email,company,labels,blocked`, then one column per
//! attribute, named by its key.

use std::collections::{BTreeMap, HashMap};

use baton_shared::contacts::{AttributeDef, CSV_COLUMNS, ContactPatch, ContactRecord, ImportProblem};

use super::phone;
use crate::store::contacts::ImportContact;

/// The most data rows one import takes.
pub const MAX_ROWS: usize = 100_000;

/// What a file holds: its good rows, and its problems (a file with any is not imported).
#[derive(Debug, Default)]
pub struct ReadFile {
    pub rows: Vec<ImportContact>,
    pub problems: Vec<ImportProblem>,
    /// Data rows read, good or not.
    pub read: u32,
}

/// Characters a spreadsheet takes as the start of a formula.
fn is_formula_start(character: char) -> bool {
    matches!(character, '=' | '+' | '-' | '@')
}

/// A cell as written to the file: text a spreadsheet would run as a formula is kept as text.
fn safe_cell(text: &str) -> String {
    match text.chars().next() {
        Some(first) if is_formula_start(first) => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// A cell as read from a file: the guard [`safe_cell`] adds is taken off.
fn read_cell(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.chars().next().is_some_and(is_formula_start) => rest,
        _ => text,
    }
}

/// Labels in a cell: separated by `;` or `,`.
fn labels_of(cell: &str) -> Vec<String> {
    cell.split([';', ',']).map(str::trim).filter(|label| !label.is_empty()).map(str::to_owned).collect()
}

/// Reads an import. Empty cells leave a field as it is; the `phone` column is required.
pub fn read(text: &str, definitions: &[AttributeDef]) -> ReadFile {
    let mut file = ReadFile::default();
    let problem = |line: u64, message: String| ImportProblem { line: u32::try_from(line).unwrap_or(u32::MAX), message };
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.iter().map(|header| header.trim().to_lowercase()).collect::<Vec<_>>(),
        Err(error) => {
            file.problems.push(problem(1, format!("The header cannot be read: {error}.")));
            return file;
        }
    };
    if !headers.iter().any(|header| header == "phone") {
        file.problems.push(problem(1, "The header has no “phone” column: every row needs a number.".into()));
        return file;
    }
    for (index, header) in headers.iter().enumerate() {
        let known =
            CSV_COLUMNS.contains(&header.as_str()) || definitions.iter().any(|definition| definition.key == *header);
        if !known {
            let keys: Vec<&str> = definitions.iter().map(|definition| definition.key.as_str()).collect();
            file.problems.push(problem(
                1,
                format!(
                    "The column “{header}” is neither a contact field ({}) nor an attribute{}.",
                    CSV_COLUMNS.join(", "),
                    if keys.is_empty() { String::new() } else { format!(" ({})", keys.join(", ")) }
                ),
            ));
        }
        if headers[..index].contains(header) {
            file.problems.push(problem(1, format!("The column “{header}” appears twice.")));
        }
    }
    if !file.problems.is_empty() {
        return file;
    }
    let mut seen: HashMap<String, u32> = HashMap::new();
    for record in reader.records() {
        let (line, record) = match record {
            Ok(record) => (record.position().map_or(0, |position| position.line()), record),
            Err(error) => {
                let line = error.position().map_or(0, |position| position.line());
                file.read += 1;
                file.problems.push(problem(line, format!("This row cannot be read: {error}.")));
                continue;
            }
        };
        file.read += 1;
        if file.read as usize > MAX_ROWS {
            file.problems.push(problem(line, format!("A file may hold at most {MAX_ROWS} contacts; split it.")));
            break;
        }
        match read_row(&headers, &record, definitions) {
            Ok((wa_id, patch)) => {
                let line = u32::try_from(line).unwrap_or(u32::MAX);
                if let Some(first) = seen.insert(wa_id.clone(), line) {
                    file.problems.push(problem(u64::from(line), format!("The number is also on line {first}.")));
                    continue;
                }
                file.rows.push(ImportContact { line, wa_id, patch });
            }
            Err(message) => file.problems.push(problem(line, message)),
        }
    }
    file
}

/// One data row: its number and the edit it makes.
fn read_row(
    headers: &[String],
    record: &csv::StringRecord,
    definitions: &[AttributeDef],
) -> Result<(String, ContactPatch), String> {
    let mut wa_id = None;
    let mut patch = ContactPatch::default();
    let mut attributes = BTreeMap::new();
    for (header, cell) in headers.iter().zip(record.iter()) {
        let cell = read_cell(cell);
        let value = (!cell.is_empty()).then(|| cell.to_owned());
        match header.as_str() {
            "phone" => wa_id = Some(phone::normalize(cell)?),
            "name" => patch.display_name = value,
            "email" => patch.email = value,
            "company" => patch.company = value,
            "labels" => patch.labels = value.map(|cell| labels_of(&cell)),
            "blocked" => {
                patch.blocked = match cell.to_lowercase().as_str() {
                    "" => None,
                    "yes" | "y" | "true" | "1" => Some(true),
                    "no" | "n" | "false" | "0" => Some(false),
                    _ => return Err(format!("“blocked” must be yes or no, not “{cell}”.")),
                }
            }
            key => {
                if let Some(definition) = definitions.iter().find(|definition| definition.key == key)
                    && let Some(value) = definition.read(cell)?
                {
                    attributes.insert(key.to_owned(), Some(value));
                }
            }
        }
    }
    patch.attributes = attributes;
    let wa_id = wa_id.ok_or("The phone number is missing.")?;
    Ok((wa_id, patch.checked(definitions)?))
}

/// The header of an export.
fn header(definitions: &[AttributeDef]) -> Vec<String> {
    CSV_COLUMNS
        .iter()
        .map(|column| (*column).to_owned())
        .chain(definitions.iter().map(|definition| definition.key.clone()))
        .collect()
}

/// Writes contacts as CSV rows (after [`header`], which `with_header` adds first).
pub fn write(records: &[ContactRecord], definitions: &[AttributeDef], with_header: bool) -> Result<String, csv::Error> {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    if with_header {
        writer.write_record(header(definitions))?;
    }
    for record in records {
        // The name the team set (a profile name is WhatsApp's, and stays WhatsApp's).
        let name = record.contact.display_name.clone().unwrap_or_default();
        let mut row = vec![
            record.phone.clone(),
            safe_cell(&name),
            safe_cell(&record.email),
            safe_cell(&record.company),
            safe_cell(&record.labels.join("; ")),
            if record.contact.blocked { "yes" } else { "no" }.to_owned(),
        ];
        row.extend(definitions.iter().map(|definition| {
            record.attributes.get(&definition.key).map(|value| safe_cell(&value.display())).unwrap_or_default()
        }));
        writer.write_record(row)?;
    }
    let bytes = writer.into_inner().map_err(|error| error.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use baton_shared::contacts::{AttributeKind, AttributeValue};

    use super::*;

    fn definitions() -> Vec<AttributeDef> {
        vec![AttributeDef {
            key: "plan".into(),
            label: "Plan".into(),
            kind: AttributeKind::Choice { options: vec!["Free".into(), "Pro".into()] },
        }]
    }

    #[test]
    fn problems_are_reported_by_line_and_good_rows_kept() {
        let text = "phone,name,plan,labels\n\
                    +55 11 98765-4321,Ana Lima,pro,vip; billing\n\
                    12345,Bea,Free,\n\
                    \"+91 98765 43210\",\"Rao, Dev\",gold,\n\
                    5511987654321,Ana again,,\n";
        let file = read(text, &definitions());
        assert_eq!(file.read, 4);
        assert_eq!(file.rows.len(), 1);
        assert_eq!(file.rows[0].line, 2);
        assert_eq!(file.rows[0].wa_id, "5511987654321");
        assert_eq!(file.rows[0].patch.attributes["plan"], Some(AttributeValue::Text("Pro".into())));
        assert_eq!(file.rows[0].patch.labels.as_deref(), Some(&["vip".to_owned(), "billing".to_owned()][..]));
        let lines: Vec<u32> = file.problems.iter().map(|problem| problem.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(file.problems[1].message.contains("one of: Free, Pro"));
        assert_eq!(file.problems[2].message, "The number is also on line 2.");
    }

    #[test]
    fn an_unknown_column_or_no_phone_refuses_the_header() {
        assert_eq!(read("name\nAna\n", &[]).problems[0].line, 1);
        let unknown = read("phone,tier\n+5511987654321,gold\n", &definitions());
        assert!(unknown.problems[0].message.contains("“tier”"));
    }

    #[test]
    fn an_export_reads_back_as_it_was_and_guards_formulas() {
        let file = read("phone,name,company,plan\n+5511987654321,Ana,=HYPERLINK(1),Pro\n", &definitions());
        assert!(file.problems.is_empty());
        let patch = &file.rows[0].patch;
        assert_eq!(patch.company.as_deref(), Some("=HYPERLINK(1)"));
        let guarded = safe_cell("=HYPERLINK(1)");
        assert_eq!(guarded, "'=HYPERLINK(1)");
        assert_eq!(read_cell(&guarded), "=HYPERLINK(1)");
    }
}
