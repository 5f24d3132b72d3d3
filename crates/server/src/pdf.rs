//! Printable A4 documents (proposals now; invoices and receipts reuse it) written with
//! `pdf-writer`, the PDF writer of the typst project: small, exact, no native dependencies.
//!
//! Text uses the standard Helvetica fonts with WinAnsiEncoding, so any PDF reader shows it and
//! text extraction (search, copy, the tests) works. WinAnsi covers Western European letters;
//! the Romanian ș ț ă are written as s t a until an embedded Unicode font is added.

use crmconnect_domain::api::{Amounts, DocumentLine};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use rust_decimal::Decimal;

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;
const BOTTOM: f32 = 70.0;
const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");

/// Everything printed on a commercial document.
pub struct DocumentPdf {
    /// "PROPOSAL", "INVOICE", …
    pub title: String,
    pub number: String,
    pub seller: Vec<String>,
    pub buyer: Vec<String>,
    /// Label/value pairs under the number (dates, validity, status).
    pub meta: Vec<(String, String)>,
    pub currency: String,
    pub lines: Vec<DocumentLine>,
    pub amounts: Amounts,
    /// Rows after the total (amount paid, balance due).
    pub extra_totals: Vec<(String, Decimal)>,
    /// Titled blocks of text after the lines (content, terms, payment instructions).
    pub sections: Vec<(String, String)>,
}

/// Address-block lines: each part split on line breaks, blank ones dropped.
pub fn block(parts: impl IntoIterator<Item = String>) -> Vec<String> {
    parts.into_iter().flat_map(|s| s.lines().map(str::to_string).collect::<Vec<_>>()).filter(|s| !s.trim().is_empty()).collect()
}

/// The seller block of every document: company name, address, VAT and registration numbers, e-mail.
pub fn company_block(company: &crmconnect_domain::api::AppSettings) -> Vec<String> {
    let labelled = |label: &str, value: &str| if value.is_empty() { String::new() } else { format!("{label}: {value}") };
    block([
        company.company_name.clone(),
        company.company_address.clone(),
        labelled("VAT", &company.company_vat_number),
        labelled("Reg. no.", &company.company_registration_number),
        company.company_email.clone(),
    ])
}

/// Helvetica's advance widths (per 1000 em, from its AFM) of the glyphs amounts use; other
/// glyphs are estimated, which only matters for wrapping text.
fn glyph_width(c: char, bold: bool) -> f32 {
    match c {
        '0'..='9' => 556.0,
        '.' | ',' | ' ' => 278.0,
        '-' => 333.0,
        '%' => 889.0,
        'A'..='Z' => {
            if bold {
                722.0
            } else {
                667.0
            }
        }
        _ => {
            if bold {
                611.0
            } else {
                556.0
            }
        }
    }
}

fn text_width(s: &str, size: f32, bold: bool) -> f32 {
    s.chars().map(|c| glyph_width(c, bold)).sum::<f32>() * size / 1000.0
}

/// WinAnsi (cp1252) bytes; characters it lacks fall back to a close letter or `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            'ș' | 'ş' => b's',
            'Ș' | 'Ş' => b'S',
            'ț' | 'ţ' => b't',
            'Ț' | 'Ţ' => b'T',
            'ă' => b'a',
            'Ă' => b'A',
            '\t' => b' ',
            _ => b'?',
        })
        .collect()
}

/// Splits text into lines that fit `width` (by words; long words are cut).
fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut out = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if text_width(&candidate, size, false) <= width || line.is_empty() {
                line = candidate;
            } else {
                out.push(std::mem::take(&mut line));
                line = word.to_string();
            }
        }
        out.push(line);
    }
    out
}

/// Formats an amount for print: `1 234.50` grouping is left to readers; we print `1234.50`.
fn amount(d: Decimal) -> String {
    d.to_string()
}

struct Writer {
    /// Finished pages, before `current`.
    done: Vec<Content>,
    current: Content,
    y: f32,
}

impl Writer {
    fn new() -> Writer {
        Writer { done: Vec::new(), current: Content::new(), y: PAGE_H - MARGIN }
    }

    fn page(&mut self) -> &mut Content {
        &mut self.current
    }

    /// Every page, in order.
    fn into_pages(self) -> Vec<Content> {
        let mut pages = self.done;
        pages.push(self.current);
        pages
    }

    /// Starts a new page when fewer than `needed` points are left.
    fn ensure(&mut self, needed: f32) {
        if self.y - needed < BOTTOM {
            self.done.push(std::mem::replace(&mut self.current, Content::new()));
            self.y = PAGE_H - MARGIN;
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, s: &str) {
        let bytes = win_ansi(s);
        let c = self.page();
        c.begin_text();
        c.set_font(if bold { BOLD } else { REGULAR }, size);
        c.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
        c.show(Str(&bytes));
        c.end_text();
    }

    fn right(&mut self, x_right: f32, y: f32, size: f32, bold: bool, s: &str) {
        let w = text_width(s, size, bold);
        self.text(x_right - w, y, size, bold, s);
    }

    fn rule(&mut self, y: f32) {
        let c = self.page();
        c.set_stroke_gray(0.75);
        c.set_line_width(0.5);
        c.move_to(MARGIN, y);
        c.line_to(PAGE_W - MARGIN, y);
        c.stroke();
    }
}

// Column positions of the lines table.
const COL_QTY: f32 = 330.0;
const COL_PRICE: f32 = 400.0;
const COL_TAX: f32 = 450.0;
const COL_TOTAL: f32 = PAGE_W - MARGIN;

pub fn render(doc: &DocumentPdf) -> Vec<u8> {
    let mut w = Writer::new();
    // Header: seller on the left, title and number on the right.
    let top = w.y;
    for (i, line) in doc.seller.iter().enumerate() {
        w.text(MARGIN, top - i as f32 * 13.0, if i == 0 { 13.0 } else { 9.0 }, i == 0, line);
    }
    w.right(COL_TOTAL, top, 18.0, true, &doc.title);
    w.right(COL_TOTAL, top - 20.0, 11.0, true, &doc.number);
    for (i, (label, value)) in doc.meta.iter().enumerate() {
        w.right(COL_TOTAL, top - 36.0 - i as f32 * 12.0, 9.0, false, &format!("{label}: {value}"));
    }
    w.y = top - (doc.seller.len().max(doc.meta.len() + 3) as f32) * 13.0 - 20.0;

    // Buyer.
    w.text(MARGIN, w.y, 9.0, true, "To:");
    w.y -= 13.0;
    for line in &doc.buyer {
        w.text(MARGIN, w.y, 10.0, false, line);
        w.y -= 13.0;
    }
    w.y -= 12.0;

    // Lines table.
    let header = |w: &mut Writer| {
        let y = w.y;
        w.text(MARGIN, y, 9.0, true, "Description");
        w.right(COL_QTY, y, 9.0, true, "Qty");
        w.right(COL_PRICE, y, 9.0, true, "Unit price");
        w.right(COL_TAX, y, 9.0, true, "Tax");
        w.right(COL_TOTAL, y, 9.0, true, &format!("Amount ({})", doc.currency));
        w.rule(y - 5.0);
        w.y -= 18.0;
    };
    header(&mut w);
    for line in &doc.lines {
        let mut desc = wrap(&line.description, 10.0, COL_QTY - MARGIN - 60.0);
        if let Some(long) = &line.long_description {
            desc.extend(wrap(long, 8.0, COL_QTY - MARGIN - 60.0).into_iter().map(|l| format!("  {l}")));
        }
        let extra = usize::from(!line.discount.is_zero());
        w.ensure(13.0 * (desc.len() + extra) as f32 + 6.0);
        if w.y == PAGE_H - MARGIN {
            header(&mut w);
        }
        let y = w.y;
        let qty = match &line.unit {
            Some(u) => format!("{} {u}", line.qty.normalize()),
            None => line.qty.normalize().to_string(),
        };
        w.right(COL_QTY, y, 10.0, false, &qty);
        w.right(COL_PRICE, y, 10.0, false, &amount(line.unit_price));
        let taxes = line.taxes.iter().map(|t| format!("{}%", t.rate.normalize())).collect::<Vec<_>>().join("+");
        w.right(COL_TAX, y, 10.0, false, if taxes.is_empty() { "-" } else { &taxes });
        w.right(COL_TOTAL, y, 10.0, false, &amount(line.net));
        for (i, d) in desc.iter().enumerate() {
            w.text(MARGIN, y - i as f32 * 12.0, if i == 0 { 10.0 } else { 8.0 }, false, d);
        }
        w.y -= 12.0 * desc.len() as f32;
        if !line.discount.is_zero() {
            w.text(MARGIN + 10.0, w.y, 8.0, false, &format!("Discount {}%: -{}", line.discount_percent.normalize(), amount(line.discount)));
            w.y -= 12.0;
        }
        w.y -= 4.0;
    }
    w.rule(w.y + 6.0);
    w.y -= 10.0;

    // Totals: subtotal, discount, one row per tax rate, total, extras.
    let a = &doc.amounts;
    let mut rows: Vec<(String, Decimal, bool)> = vec![("Subtotal".into(), a.subtotal, false)];
    if !a.discount_total.is_zero() {
        rows.push(("Discount".into(), -a.discount_total, false));
    }
    for t in &a.taxes {
        rows.push((format!("{} ({}% of {})", t.name, t.rate.normalize(), amount(t.base)), t.amount, false));
    }
    rows.push((format!("Total {}", doc.currency), a.total, true));
    for (label, value) in &doc.extra_totals {
        rows.push((label.clone(), *value, true));
    }
    w.ensure(14.0 * rows.len() as f32);
    for (label, value, bold) in rows {
        let y = w.y;
        w.right(COL_PRICE + 50.0, y, 10.0, bold, &label);
        w.right(COL_TOTAL, y, 10.0, bold, &amount(value));
        w.y -= 14.0;
    }

    for (title, body) in &doc.sections {
        if body.trim().is_empty() {
            continue;
        }
        w.y -= 12.0;
        w.ensure(30.0);
        let y = w.y;
        w.text(MARGIN, y, 10.0, true, title);
        w.y -= 14.0;
        for line in wrap(body, 9.0, PAGE_W - 2.0 * MARGIN) {
            w.ensure(12.0);
            let y = w.y;
            w.text(MARGIN, y, 9.0, false, &line);
            w.y -= 12.0;
        }
    }
    finish(w.into_pages(), &doc.title, &doc.number)
}

fn finish(pages: Vec<Content>, title: &str, number: &str) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first_page = 6;
    let count = pages.len() as i32;
    let page_ids: Vec<Ref> = (0..count).map(|i| Ref::new(first_page + 2 * i)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(count);
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info).title(pdf_writer::TextStr(&format!("{title} {number}"))).producer(pdf_writer::TextStr("CRMConnect"));
    let total_pages = pages.len();
    for (i, mut content) in pages.into_iter().enumerate() {
        let page_id = page_ids[i];
        let content_id = Ref::new(first_page + 2 * i as i32 + 1);
        // Page number in the footer.
        let footer = win_ansi(&format!("{number} - page {} of {total_pages}", i + 1));
        content.begin_text();
        content.set_font(REGULAR, 8.0);
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, MARGIN, 30.0]);
        content.show(Str(&footer));
        content.end_text();
        let mut page = pdf.page(page_id);
        page.parent(tree).media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).contents(content_id);
        page.resources().fonts().pair(REGULAR, regular).pair(BOLD, bold);
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_encoded_for_win_ansi_and_wrapped() {
        assert_eq!(win_ansi("Plată în €"), b"Plata \xeen \x80".to_vec());
        let lines = wrap("one two three four five six seven", 10.0, 60.0);
        assert!(lines.len() > 1 && lines.iter().all(|l| !l.is_empty()), "{lines:?}");
        assert_eq!(text_width("1234.50", 10.0, false), (6.0 * 556.0 + 278.0) * 10.0 / 1000.0);
    }
}
