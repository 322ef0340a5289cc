//! Network charts: nodes on a circle, largest at the top going clockwise, edges as curves whose
//! width follows their weight. The layout depends only on the data, so it is deterministic.

use std::collections::HashMap;
use std::f64::consts::PI;

use super::ChartSpec;
use super::columns::Columns;
use super::svg::{self, Svg, WIDTH};
use crate::error::Result;

const HEIGHT: f64 = 630.0;
/// The circle the nodes sit on.
const CX: f64 = WIDTH / 2.0;
const CY: f64 = 315.0;
const RADIUS: f64 = 215.0;
/// Node radii, smallest and largest.
const R_MIN: f64 = 3.0;
const R_MAX: f64 = 16.0;
/// Edge widths, thinnest and widest.
const W_MIN: f64 = 0.6;
const W_MAX: f64 = 9.0;
/// Beyond these, the heaviest edges and the largest nodes' labels are kept.
const MAX_EDGES: usize = 600;
const MAX_LABELS: usize = 60;

pub(super) fn render(spec: &ChartSpec, cols: &Columns<'_>) -> Result<String> {
    let source = spec.source.as_deref().unwrap_or_default();
    let target = spec.target.as_deref().unwrap_or_default();
    let a = cols.labels("source", source)?;
    let b = cols.labels("target", target)?;
    let weights = match &spec.weight {
        Some(w) => cols.numbers("weight", w)?,
        None => vec![Some(1.0); a.len()],
    };
    let size_a = spec
        .node_size
        .as_deref()
        .map(|c| cols.numbers("node_size", c))
        .transpose()?;
    let size_b = spec
        .target_size
        .as_deref()
        .map(|c| cols.numbers("target_size", c))
        .transpose()?;

    // Nodes in order of first appearance; edges merged per unordered pair.
    let mut names: Vec<String> = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut id = |n: &str, names: &mut Vec<String>| -> usize {
        *ids.entry(n.to_string()).or_insert_with(|| {
            names.push(n.to_string());
            names.len() - 1
        })
    };
    let mut given_size: HashMap<usize, f64> = HashMap::new();
    let mut edges: HashMap<(usize, usize), f64> = HashMap::new();
    for r in 0..a.len() {
        let (Some(na), Some(nb)) = (&a[r], &b[r]) else {
            continue;
        };
        let (ia, ib) = (id(na, &mut names), id(nb, &mut names));
        for (node, sizes) in [(ia, &size_a), (ib, &size_b)] {
            if let Some(v) = sizes.as_ref().and_then(|s| s[r]) {
                let e = given_size.entry(node).or_insert(v);
                *e = e.max(v);
            }
        }
        match weights[r] {
            Some(w) if w > 0.0 && ia != ib => {
                *edges.entry((ia.min(ib), ia.max(ib))).or_insert(0.0) += w;
            }
            _ => {}
        }
    }
    if names.is_empty() {
        return Ok(svg::no_data(spec.title()));
    }
    let sized = spec.node_size.is_some() || spec.target_size.is_some();
    let mut size = vec![0.0; names.len()];
    if sized {
        for (n, v) in &given_size {
            size[*n] = v.max(0.0);
        }
    } else {
        for ((i, j), w) in &edges {
            size[*i] += w;
            size[*j] += w;
        }
    }

    // Largest first (ties: first appearance), the first `limit` kept.
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|x, y| size[*y].total_cmp(&size[*x]).then(x.cmp(y)));
    if let Some(limit) = spec.limit {
        order.truncate(limit.max(1));
    }
    let slot: HashMap<usize, usize> = order.iter().enumerate().map(|(k, n)| (*n, k)).collect();
    let mut kept: Vec<((usize, usize), f64)> = edges
        .into_iter()
        .filter(|((i, j), _)| slot.contains_key(i) && slot.contains_key(j))
        .collect();
    // Heaviest last so they are drawn on top; ties by position for determinism.
    kept.sort_by(|(p, w), (q, v)| {
        w.total_cmp(v)
            .then((slot[&p.0], slot[&p.1]).cmp(&(slot[&q.0], slot[&q.1])))
    });
    let dropped_edges = kept.len().saturating_sub(MAX_EDGES);
    kept.drain(..dropped_edges);

    let n = order.len();
    let angle = |k: usize| -PI / 2.0 + 2.0 * PI * k as f64 / n as f64;
    let pos = |k: usize| {
        if n == 1 {
            (CX, CY)
        } else {
            (CX + RADIUS * angle(k).cos(), CY + RADIUS * angle(k).sin())
        }
    };
    let max_size = order.iter().map(|i| size[*i]).fold(0.0, f64::max);
    let radius = |node: usize| {
        if max_size > 0.0 {
            R_MIN + (R_MAX - R_MIN) * (size[node] / max_size).sqrt()
        } else {
            R_MIN + 2.0
        }
    };
    let max_w = kept.iter().map(|(_, w)| *w).fold(0.0, f64::max);

    let mut doc = Svg::new(HEIGHT, spec.title());
    doc.title(spec.title());
    doc.raw("<g class=\"edges\" fill=\"none\" stroke=\"#56B4E9\" stroke-opacity=\"0.6\">");
    for ((i, j), w) in &kept {
        let (x1, y1) = pos(slot[i]);
        let (x2, y2) = pos(slot[j]);
        // A curve bent towards the centre keeps edges between neighbours off the circle.
        let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
        let (qx, qy) = (CX + (mx - CX) * 0.35, CY + (my - CY) * 0.35);
        doc.raw(&format!(
            "<path class=\"edge\" d=\"M{} {} Q{} {} {} {}\" stroke-width=\"{}\"><title>{} – {}: {}</title></path>",
            svg::num(x1),
            svg::num(y1),
            svg::num(qx),
            svg::num(qy),
            svg::num(x2),
            svg::num(y2),
            svg::num(W_MIN + (W_MAX - W_MIN) * w / max_w),
            svg::escape_xml(&names[*i]),
            svg::escape_xml(&names[*j]),
            svg::significant(*w, 4)
        ));
    }
    doc.raw("</g>");

    doc.raw("<g class=\"nodes\">");
    for (k, node) in order.iter().enumerate() {
        let (x, y) = pos(k);
        let size_text = svg::significant(size[*node], 4);
        doc.raw(&format!(
            "<circle class=\"node\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"#0072B2\" stroke=\"#fff\" stroke-width=\"1\">\
             <title>{}: {}</title></circle>",
            svg::num(x),
            svg::num(y),
            svg::num(radius(*node)),
            svg::escape_xml(&names[*node]),
            size_text
        ));
    }
    for (k, node) in order.iter().enumerate().take(MAX_LABELS) {
        let (x, y) = pos(k);
        let a = angle(k);
        let (c, s) = if n == 1 {
            (0.0, -1.0)
        } else {
            (a.cos(), a.sin())
        };
        let off = radius(*node) + 5.0;
        let anchor = if c > 0.2 {
            "start"
        } else if c < -0.2 {
            "end"
        } else {
            "middle"
        };
        doc.text(
            x + off * c,
            y + off * s + 4.0 + 4.0 * s,
            &format!(
                "class=\"node-label\" text-anchor=\"{anchor}\" font-size=\"11\" fill=\"#222\""
            ),
            &svg::truncate(&names[*node], 18),
        );
    }
    doc.raw("</g>");

    let node_meaning = if sized {
        let cols: Vec<&str> = [spec.node_size.as_deref(), spec.target_size.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        cols.join(" / ")
    } else {
        "weighted degree".to_string()
    };
    let mut caption = format!(
        "{n} nodes, {} edges · node area ~ {node_meaning} · edge width ~ {}",
        kept.len(),
        spec.weight.as_deref().unwrap_or("number of rows")
    );
    if dropped_edges > 0 {
        caption.push_str(&format!(" · {dropped_edges} lightest edges not drawn"));
    }
    if n > MAX_LABELS {
        caption.push_str(&format!(" · labels on the {MAX_LABELS} largest nodes"));
    }
    doc.text(
        CX,
        HEIGHT - 14.0,
        "class=\"caption\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\"",
        &caption,
    );
    Ok(doc.finish())
}
