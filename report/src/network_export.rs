//! A collaboration network (an edge list result) written for network tools: GraphML (Gephi, yEd,
//! networkx), GEXF 1.3 (Gephi) and VOSviewer map + network files.

use std::collections::BTreeMap;

use arrow::record_batch::RecordBatch;

use crate::chart::columns::Columns;
use crate::chart::escape_xml;
use crate::error::Result;

/// Nodes and undirected weighted edges.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// Node labels with their size (papers), in first-seen order.
    pub nodes: Vec<(String, f64)>,
    /// (node index, node index, weight, association strength if given).
    pub edges: Vec<(usize, usize, f64, Option<f64>)>,
}

/// The columns of an edge list.
#[derive(Debug, Clone)]
pub struct EdgeColumns<'a> {
    pub source: &'a str,
    pub target: &'a str,
    pub weight: &'a str,
    /// Papers of the source node.
    pub source_size: Option<&'a str>,
    /// Papers of the target node.
    pub target_size: Option<&'a str>,
    /// Association strength of the edge.
    pub strength: Option<&'a str>,
}

impl Network {
    /// Reads an edge list; rows with a NULL end or weight are skipped, and a node's size is the
    /// largest size given for it (0 when no size column is named).
    pub fn from_batches(batches: &[RecordBatch], cols: &EdgeColumns<'_>) -> Result<Self> {
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut nodes: Vec<(String, f64)> = Vec::new();
        let mut edges = Vec::new();
        let mut node = |label: &str, size: Option<f64>, nodes: &mut Vec<(String, f64)>| {
            let i = *index.entry(label.to_owned()).or_insert_with(|| {
                nodes.push((label.to_owned(), 0.0));
                nodes.len() - 1
            });
            if let Some(s) = size {
                nodes[i].1 = nodes[i].1.max(s);
            }
            i
        };
        if let Some(c) = Columns::new(batches, "network export".into()) {
            let src = c.labels("source", cols.source)?;
            let dst = c.labels("target", cols.target)?;
            let w = c.numbers("weight", cols.weight)?;
            let sa = cols
                .source_size
                .map(|n| c.numbers("source_size", n))
                .transpose()?;
            let sb = cols
                .target_size
                .map(|n| c.numbers("target_size", n))
                .transpose()?;
            let st = cols
                .strength
                .map(|n| c.numbers("strength", n))
                .transpose()?;
            for r in 0..c.rows() {
                let (Some(a), Some(t), Some(w)) = (&src[r], &dst[r], w[r]) else {
                    continue;
                };
                let i = node(a, sa.as_ref().and_then(|s| s[r]), &mut nodes);
                let j = node(t, sb.as_ref().and_then(|s| s[r]), &mut nodes);
                edges.push((i, j, w, st.as_ref().and_then(|s| s[r])));
            }
        }
        Ok(Network { nodes, edges })
    }

    /// GraphML, undirected, with node `papers` and edge `weight` (and `association_strength`).
    pub fn to_graphml(&self) -> String {
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n\
             \x20 <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n\
             \x20 <key id=\"papers\" for=\"node\" attr.name=\"papers\" attr.type=\"double\"/>\n\
             \x20 <key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"double\"/>\n\
             \x20 <key id=\"strength\" for=\"edge\" attr.name=\"association_strength\" attr.type=\"double\"/>\n\
             \x20 <graph id=\"collaboration\" edgedefault=\"undirected\">\n",
        );
        for (i, (label, size)) in self.nodes.iter().enumerate() {
            s.push_str(&format!(
                "    <node id=\"n{i}\"><data key=\"label\">{}</data><data key=\"papers\">{size}</data></node>\n",
                escape_xml(label)
            ));
        }
        for (a, b, w, st) in &self.edges {
            s.push_str(&format!(
                "    <edge source=\"n{a}\" target=\"n{b}\"><data key=\"weight\">{w}</data>"
            ));
            if let Some(st) = st {
                s.push_str(&format!("<data key=\"strength\">{st}</data>"));
            }
            s.push_str("</edge>\n");
        }
        s.push_str("  </graph>\n</graphml>\n");
        s
    }

    /// GEXF 1.3, undirected, node labels and a `papers` attribute, edge weights.
    pub fn to_gexf(&self) -> String {
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <gexf xmlns=\"http://gexf.net/1.3\" version=\"1.3\">\n\
             \x20 <meta><creator>bibflow</creator></meta>\n\
             \x20 <graph defaultedgetype=\"undirected\" mode=\"static\">\n\
             \x20   <attributes class=\"node\"><attribute id=\"papers\" title=\"papers\" type=\"double\"/></attributes>\n\
             \x20   <nodes>\n",
        );
        for (i, (label, size)) in self.nodes.iter().enumerate() {
            s.push_str(&format!(
                "      <node id=\"n{i}\" label=\"{}\"><attvalues><attvalue for=\"papers\" value=\"{size}\"/></attvalues></node>\n",
                escape_xml(label)
            ));
        }
        s.push_str("    </nodes>\n    <edges>\n");
        for (k, (a, b, w, _)) in self.edges.iter().enumerate() {
            s.push_str(&format!(
                "      <edge id=\"e{k}\" source=\"n{a}\" target=\"n{b}\" weight=\"{w}\"/>\n"
            ));
        }
        s.push_str("    </edges>\n  </graph>\n</gexf>\n");
        s
    }

    /// VOSviewer map and network files (tab-separated; ids are 1-based integers): the map gives
    /// each node's label, links, total link strength and documents; the network one line per edge.
    pub fn to_vosviewer(&self) -> (String, String) {
        let mut links = vec![0u64; self.nodes.len()];
        let mut strength = vec![0f64; self.nodes.len()];
        for (a, b, w, _) in &self.edges {
            for n in [*a, *b] {
                links[n] += 1;
                strength[n] += w;
            }
        }
        let mut map = String::from(
            "id\tlabel\tweight<Links>\tweight<Total link strength>\tweight<Documents>\n",
        );
        for (i, (label, size)) in self.nodes.iter().enumerate() {
            let label = label.replace(['\t', '\n'], " ");
            map.push_str(&format!(
                "{}\t{label}\t{}\t{}\t{size}\n",
                i + 1,
                links[i],
                strength[i]
            ));
        }
        let mut net = String::new();
        for (a, b, w, _) in &self.edges {
            net.push_str(&format!("{}\t{}\t{w}\n", a + 1, b + 1));
        }
        (map, net)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn edges() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Utf8, true),
            Field::new("links", DataType::Float64, true),
            Field::new("papers_a", DataType::Int64, true),
            Field::new("papers_b", DataType::Int64, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec![
                    Some("DE"),
                    Some("FR"),
                    None,
                    Some("A&B"),
                ])),
                Arc::new(StringArray::from(vec![
                    Some("US"),
                    Some("US"),
                    Some("X"),
                    Some("DE"),
                ])),
                Arc::new(Float64Array::from(vec![3.0, 2.0, 9.0, 1.0])),
                Arc::new(Int64Array::from(vec![10, 7, 1, 4])),
                Arc::new(Int64Array::from(vec![20, 20, 1, 10])),
            ],
        )
        .unwrap()
    }

    const COLS: EdgeColumns<'static> = EdgeColumns {
        source: "a",
        target: "b",
        weight: "links",
        source_size: Some("papers_a"),
        target_size: Some("papers_b"),
        strength: None,
    };

    #[test]
    fn reads_edges_and_sizes() {
        let n = Network::from_batches(&[edges()], &COLS).unwrap();
        let labels: Vec<&str> = n.nodes.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["DE", "US", "FR", "A&B"]);
        assert_eq!(n.nodes[0].1, 10.0);
        assert_eq!(n.nodes[1].1, 20.0);
        assert_eq!(n.edges.len(), 3, "the row with a NULL end is skipped");
        let err = Network::from_batches(
            &[edges()],
            &EdgeColumns {
                weight: "nope",
                ..COLS
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"nope\"") && err.to_string().contains("links"));
    }

    #[test]
    fn writes_the_three_formats() {
        let n = Network::from_batches(&[edges()], &COLS).unwrap();
        let g = n.to_graphml();
        assert_eq!(g.matches("<node ").count(), 4);
        assert_eq!(g.matches("<edge ").count(), 3);
        let x = n.to_gexf();
        assert!(x.contains("label=\"A&amp;B\""), "{x}");
        assert_eq!(x.matches("<edge ").count(), 3);
        let (map, net) = n.to_vosviewer();
        // US: edges to DE (3) and FR (2) -> 2 links, strength 5, 20 documents.
        assert!(map.lines().any(|l| l == "2\tUS\t2\t5\t20"), "{map}");
        assert_eq!(
            net.lines().collect::<Vec<_>>(),
            ["1\t2\t3", "3\t2\t2", "4\t1\t1"]
        );
    }
}
