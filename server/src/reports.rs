//! Reports (`docs/reports.md`): what each conversation event records ([`track`]) and every
//! figure computed from those records, once, for the REST API, its CSV exports and the page.

pub mod figures;
pub mod track;
