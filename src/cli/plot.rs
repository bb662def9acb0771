//! Minimal SVG line plots for the run folder: loss curves and equivariance error by rotation
//! angle. Hand-written because a few polylines and tick labels are all a run needs.

use std::fmt::Write;

/// One named curve of `(x, y)` points.
pub struct Series<'a> {
    /// Legend text.
    pub name: &'a str,
    /// The points, in drawing order; non-finite values are skipped.
    pub points: Vec<(f64, f64)>,
}

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];
const W: f64 = 640.0;
const H: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// An SVG document plotting `series`, with a log10 y axis when `log_y` (non-positive values
/// are then skipped).
pub fn svg(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    log_y: bool,
) -> String {
    let ty = |y: f64| if log_y { y.log10() } else { y };
    let usable = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && (!log_y || y > 0.0);
    let pts: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied().filter(usable))
        .map(|(x, y)| (x, ty(y)))
        .collect();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in &pts {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if pts.is_empty() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 - x0 < 1e-12 {
        (x0, x1) = (x0 - 0.5, x1 + 0.5);
    }
    if y1 - y0 < 1e-12 {
        (y0, y1) = (y0 - 0.5, y1 + 0.5);
    }
    let pad = 0.05 * (y1 - y0);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let py = |y: f64| H - BOTTOM - (y - y0) / (y1 - y0) * (H - TOP - BOTTOM);

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}""#
    );
    let _ = writeln!(s, r#" font-family="sans-serif" font-size="12">"#);
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        W / 2.0,
        escape(title)
    );
    let (bx, by) = (LEFT, H - BOTTOM);
    let _ = writeln!(
        s,
        r#"<path d="M{bx},{TOP} V{by} H{}" stroke="black" fill="none"/>"#,
        W - RIGHT
    );
    for xv in round_ticks(x0, x1) {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            px(xv),
            by + 18.0,
            number(xv)
        );
    }
    for i in 0..=4 {
        let yv = y0 + i as f64 / 4.0 * (y1 - y0);
        let ylab = if log_y { 10f64.powf(yv) } else { yv };
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            bx - 6.0,
            py(yv) + 4.0,
            number(ylab)
        );
        let _ = writeln!(
            s,
            r##"<path d="M{bx},{:.1} H{}" stroke="#ddd"/>"##,
            py(yv),
            W - RIGHT
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        W / 2.0,
        H - 12.0,
        escape(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>"#,
        H / 2.0,
        H / 2.0,
        escape(y_label)
    );
    for (i, series) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let line: Vec<String> = series
            .points
            .iter()
            .filter(|p| usable(p))
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(ty(y))))
            .collect();
        if !line.is_empty() {
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
                line.join(" ")
            );
            for p in &line {
                let (x, y) = p.split_once(',').expect("formatted as x,y");
                let _ = writeln!(s, r#"<circle cx="{x}" cy="{y}" r="2.5" fill="{color}"/>"#);
            }
        }
        let ly = TOP + 8.0 + 16.0 * i as f64;
        let _ = write!(
            s,
            r#"<path d="M{},{ly} h18" stroke="{color}" stroke-width="2"/>"#,
            W - RIGHT - 170.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}">{}</text>"#,
            W - RIGHT - 146.0,
            ly + 4.0,
            escape(series.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Tick positions in `[lo, hi]` at a round step (1, 2 or 5 times a power of ten) giving at most
/// about six ticks, so that epochs are labelled 2, 4, 6 rather than 2.75, 4.5.
fn round_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let rough = (hi - lo) / 5.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&step| step >= rough)
        .unwrap_or(10.0 * power);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

fn number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-2..1e4).contains(&a) {
        format!("{v:.1e}")
    } else {
        format!("{:.3}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::round_ticks;

    #[test]
    fn ticks_fall_on_round_numbers_inside_the_range() {
        assert_eq!(round_ticks(1.0, 8.0), vec![2.0, 4.0, 6.0, 8.0]);
        assert_eq!(round_ticks(15.0, 165.0), vec![50.0, 100.0, 150.0]);
        let fine = round_ticks(0.5, 1.5);
        let want = [0.6, 0.8, 1.0, 1.2, 1.4];
        assert_eq!(fine.len(), want.len(), "{fine:?}");
        assert!(
            fine.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
            "{fine:?}"
        );
        let many = round_ticks(1.0, 100.0);
        assert!(many.len() <= 6 && many.len() >= 3, "{many:?}");
    }
}
