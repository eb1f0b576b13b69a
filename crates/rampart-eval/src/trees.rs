//! Tree ensembles (`ai.onnx.ml` TreeEnsembleClassifier and
//! TreeEnsembleRegressor) evaluated natively, as onnxruntime evaluates
//! them.
//!
//! tract 0.23 finds each leaf's weights by walking its leaf table from
//! the start (`outer_iter().skip(n)`), so one row costs the size of the
//! whole forest per tree: a 100-tree random forest ran for minutes on a
//! million rows. Graphs that are one tree ensemble (every scikit-learn,
//! xgboost and lightgbm export: the ensemble, then Identity, Cast and a
//! multiplication by one) are run here instead; any other graph goes to
//! tract. Semantics follow onnxruntime's tree aggregators, including its
//! binary cases (one score per row for two classes).

use crate::model::Column;
use crate::Error;
use std::collections::HashMap;
use tract_onnx::pb;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
}

#[derive(Debug, Clone, Copy)]
enum Node {
    Branch {
        feature: u32,
        value: f32,
        cmp: Cmp,
        yes: u32,
        no: u32,
        nan_yes: bool,
    },
    /// Weights `leaves[start..end]`.
    Leaf { start: u32, end: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Aggregate {
    Sum,
    Average,
    Min,
    Max,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Post {
    None,
    Logistic,
    Softmax,
}

/// One ensemble, ready to run.
#[derive(Debug, Clone)]
pub struct Ensemble {
    nodes: Vec<Node>,
    roots: Vec<u32>,
    leaves: Vec<(u32, f32)>,
    /// Features a row must have (the largest id used, plus one).
    pub features: usize,
    /// Class labels (classifier) or None (regressor).
    labels: Option<Vec<i64>>,
    /// Scores per row: classes or targets.
    outputs: usize,
    base: Vec<f32>,
    aggregate: Aggregate,
    post: Post,
    /// Leaves score only one class of two (onnxruntime's binary case).
    binary_one_score: bool,
    weights_all_positive: bool,
    /// The same trees for walking blocks of rows, when every branch
    /// compares the same way.
    flat: Option<Flat>,
}

/// Trees laid out for walking a block of rows in lock-step: each node in
/// 16 bytes, and each leaf a branch to itself, so that every row of the
/// block takes exactly its tree's depth in steps with no test of the
/// node's kind. The rows' walks are independent, and the processor
/// overlaps their loads; one row at a time, each step waits for the last.
#[derive(Debug, Clone)]
struct Flat {
    cmp: Cmp,
    nodes: Vec<FlatNode>,
    /// Per tree, its root and depth.
    trees: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, Copy)]
struct FlatNode {
    /// The feature read; the top bit is set when a missing value (NaN)
    /// goes to `yes`.
    feature: u32,
    value: f32,
    yes: u32,
    no: u32,
}

const NAN_YES: u32 = 1 << 31;

/// Rows walked together: enough to keep the loads in flight, few enough
/// that their accumulators stay in the first-level cache.
const BLOCK: usize = 16;

impl Flat {
    /// The flat layout, when every branch compares one way (as
    /// scikit-learn's, LightGBM's and XGBoost's exports do) by an order.
    fn of(nodes: &[Node], roots: &[(i64, u32)], depth: &[u32]) -> Option<Flat> {
        let mut cmp = None;
        let mut flat = Vec::with_capacity(nodes.len());
        for (i, n) in nodes.iter().enumerate() {
            flat.push(match *n {
                Node::Leaf { .. } => FlatNode {
                    feature: 0,
                    value: 0.0,
                    yes: i as u32,
                    no: i as u32,
                },
                Node::Branch {
                    feature,
                    value,
                    cmp: c,
                    yes,
                    no,
                    nan_yes,
                } => {
                    if matches!(c, Cmp::Eq | Cmp::Neq) || cmp.is_some_and(|k| k != c) {
                        return None;
                    }
                    cmp = Some(c);
                    FlatNode {
                        feature: feature | if nan_yes { NAN_YES } else { 0 },
                        value,
                        yes,
                        no,
                    }
                }
            });
        }
        let trees = roots
            .iter()
            .map(|&(_, r)| (r, depth.get(r as usize).copied().unwrap_or(0)))
            .collect();
        Some(Flat {
            cmp: cmp.unwrap_or(Cmp::Leq),
            nodes: flat,
            trees,
        })
    }

    /// Walks `root` for each row of `block` (rows of `width`): the node
    /// each reaches, in `at`.
    fn walk(&self, root: u32, depth: u32, block: &[f32], width: usize, at: &mut [u32]) {
        match self.cmp {
            Cmp::Lt => self.walk_by(root, depth, block, width, at, |v, t| v < t),
            Cmp::Gte => self.walk_by(root, depth, block, width, at, |v, t| v >= t),
            Cmp::Gt => self.walk_by(root, depth, block, width, at, |v, t| v > t),
            _ => self.walk_by(root, depth, block, width, at, |v, t| v <= t),
        }
    }

    fn walk_by(
        &self,
        root: u32,
        depth: u32,
        block: &[f32],
        width: usize,
        at: &mut [u32],
        go: impl Fn(f32, f32) -> bool,
    ) {
        at.iter_mut().for_each(|a| *a = root);
        for _ in 0..depth {
            for (a, row) in at.iter_mut().zip(block.chunks_exact(width)) {
                let Some(n) = self.nodes.get(*a as usize) else {
                    continue;
                };
                let v = row
                    .get((n.feature & !NAN_YES) as usize)
                    .copied()
                    .unwrap_or(f32::NAN);
                // A comparison with NaN is false: NaN then goes by the flag.
                let yes = go(v, n.value) | (v.is_nan() & (n.feature & NAN_YES != 0));
                *a = if yes { n.yes } else { n.no };
            }
        }
    }
}

fn attr<'a>(node: &'a pb::NodeProto, name: &str) -> Option<&'a pb::AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn ints(node: &pb::NodeProto, name: &str) -> Vec<i64> {
    attr(node, name).map(|a| a.ints.clone()).unwrap_or_default()
}

fn floats(node: &pb::NodeProto, name: &str) -> Vec<f32> {
    attr(node, name)
        .map(|a| a.floats.clone())
        .unwrap_or_default()
}

fn text(node: &pb::NodeProto, name: &str) -> Option<String> {
    attr(node, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Model(format!("tree ensemble: {what}"))
}

/// A count or id from the model, within `limit`.
fn index(v: i64, limit: usize, what: &str) -> Result<u32, Error> {
    usize::try_from(v)
        .ok()
        .filter(|&v| v < limit && v <= u32::MAX as usize)
        .map(|v| v as u32)
        .ok_or_else(|| bad(format!("{what} {v} is out of range")))
}

impl Ensemble {
    /// Reads a TreeEnsembleClassifier or TreeEnsembleRegressor node.
    pub fn parse(node: &pb::NodeProto) -> Result<Ensemble, Error> {
        let classifier = node.op_type == "TreeEnsembleClassifier";
        let tree_ids = ints(node, "nodes_treeids");
        let node_ids = ints(node, "nodes_nodeids");
        let features = ints(node, "nodes_featureids");
        let values = floats(node, "nodes_values");
        let yes = ints(node, "nodes_truenodeids");
        let no = ints(node, "nodes_falsenodeids");
        let nan = ints(node, "nodes_missing_value_tracks_true");
        let modes: Vec<Vec<u8>> = attr(node, "nodes_modes")
            .map(|a| a.strings.clone())
            .unwrap_or_default();
        let n = tree_ids.len();
        if n == 0
            || [
                node_ids.len(),
                features.len(),
                values.len(),
                yes.len(),
                no.len(),
                modes.len(),
            ]
            .iter()
            .any(|&l| l != n)
            || !(nan.is_empty() || nan.len() == n)
        {
            return Err(bad("its node attributes are missing or of different lengths (nodes_values_as_tensor is not read)"));
        }
        let mut at: HashMap<(i64, i64), u32> = HashMap::with_capacity(n);
        for (i, key) in tree_ids.iter().zip(&node_ids).enumerate() {
            if at.insert((*key.0, *key.1), i as u32).is_some() {
                return Err(bad(format!(
                    "node {} of tree {} is defined twice",
                    key.1, key.0
                )));
            }
        }
        let prefix = if classifier { "class" } else { "target" };
        let l_trees = ints(node, &format!("{prefix}_treeids"));
        let l_nodes = ints(node, &format!("{prefix}_nodeids"));
        let l_ids = ints(node, &format!("{prefix}_ids"));
        let l_weights = floats(node, &format!("{prefix}_weights"));
        let m = l_trees.len();
        if [l_nodes.len(), l_ids.len(), l_weights.len()]
            .iter()
            .any(|&l| l != m)
        {
            return Err(bad(format!(
                "its {prefix}_* attributes are of different lengths"
            )));
        }
        let labels = if classifier {
            if attr(node, "classlabels_strings").is_some() {
                return Err(bad(
                    "string class labels: export the classifier with integer labels",
                ));
            }
            Some(ints(node, "classlabels_int64s"))
        } else {
            None
        };
        let outputs = match &labels {
            Some(l) => l.len(),
            None => attr(node, "n_targets").map_or(1, |a| a.i.max(0) as usize),
        };
        if outputs == 0 || outputs > 1 << 16 {
            return Err(bad(format!("{outputs} classes or targets")));
        }
        // Leaves grouped by node, in the order given.
        let mut per_leaf: HashMap<u32, Vec<(u32, f32)>> = HashMap::new();
        for k in 0..m {
            let (t, nd) = (l_trees.get(k), l_nodes.get(k));
            let (Some(&t), Some(&nd)) = (t, nd) else {
                continue;
            };
            let i = *at.get(&(t, nd)).ok_or_else(|| {
                bad(format!(
                    "a weight names node {nd} of tree {t}, which does not exist"
                ))
            })?;
            let id = index(*l_ids.get(k).unwrap_or(&-1), outputs, "class or target id")?;
            per_leaf
                .entry(i)
                .or_default()
                .push((id, *l_weights.get(k).unwrap_or(&0.0)));
        }
        let mut nodes = Vec::with_capacity(n);
        let mut leaves = Vec::with_capacity(m);
        let mut referenced = vec![false; n];
        let mut max_feature = 0usize;
        for i in 0..n {
            let mode = modes
                .get(i)
                .map(|m| String::from_utf8_lossy(m).into_owned())
                .unwrap_or_default();
            let cmp = match mode.as_str() {
                "LEAF" => None,
                "BRANCH_LEQ" => Some(Cmp::Leq),
                "BRANCH_LT" => Some(Cmp::Lt),
                "BRANCH_GTE" => Some(Cmp::Gte),
                "BRANCH_GT" => Some(Cmp::Gt),
                "BRANCH_EQ" => Some(Cmp::Eq),
                "BRANCH_NEQ" => Some(Cmp::Neq),
                other => return Err(bad(format!("node mode {other:?}"))),
            };
            let tree = *tree_ids.get(i).unwrap_or(&0);
            nodes.push(match cmp {
                None => {
                    let start = leaves.len() as u32;
                    leaves.extend(per_leaf.remove(&(i as u32)).unwrap_or_default());
                    Node::Leaf {
                        start,
                        end: leaves.len() as u32,
                    }
                }
                Some(cmp) => {
                    let child = |v: Option<&i64>| -> Result<u32, Error> {
                        let v = *v.unwrap_or(&-1);
                        at.get(&(tree, v)).copied().ok_or_else(|| {
                            bad(format!(
                                "a branch of tree {tree} goes to node {v}, which does not exist"
                            ))
                        })
                    };
                    let (y, no_) = (child(yes.get(i))?, child(no.get(i))?);
                    for c in [y, no_] {
                        if let Some(r) = referenced.get_mut(c as usize) {
                            *r = true;
                        }
                    }
                    let feature = index(*features.get(i).unwrap_or(&-1), 1 << 24, "feature id")?;
                    max_feature = max_feature.max(feature as usize + 1);
                    Node::Branch {
                        feature,
                        value: *values.get(i).unwrap_or(&0.0),
                        cmp,
                        yes: y,
                        no: no_,
                        nan_yes: nan.get(i).is_some_and(|&v| v != 0),
                    }
                }
            });
        }
        // A tree's root is its node no branch leads to.
        let mut roots: Vec<(i64, u32)> = (0..n)
            .filter(|&i| !referenced.get(i).copied().unwrap_or(true))
            .map(|i| (*tree_ids.get(i).unwrap_or(&0), i as u32))
            .collect();
        roots.sort_unstable();
        let trees: std::collections::BTreeSet<i64> = tree_ids.iter().copied().collect();
        if roots.len() != trees.len() || roots.windows(2).any(|w| matches!(w, [a, b] if a.0 == b.0))
        {
            return Err(bad(
                "a tree has no single root (a cycle, or nodes no branch reaches)",
            ));
        }
        let depth = check_acyclic(&nodes, &roots)?;
        let flat = Flat::of(&nodes, &roots, &depth);
        let aggregate = match text(node, "aggregate_function").as_deref().unwrap_or("SUM") {
            "SUM" => Aggregate::Sum,
            "AVERAGE" => Aggregate::Average,
            "MIN" => Aggregate::Min,
            "MAX" => Aggregate::Max,
            other => return Err(bad(format!("aggregate_function {other}"))),
        };
        let post = match text(node, "post_transform").as_deref().unwrap_or("NONE") {
            "NONE" => Post::None,
            "LOGISTIC" => Post::Logistic,
            "SOFTMAX" => Post::Softmax,
            other => return Err(bad(format!("post_transform {other} is not supported"))),
        };
        let ids: std::collections::BTreeSet<u32> = leaves.iter().map(|l| l.0).collect();
        let base = floats(node, "base_values");
        if base.len() > outputs {
            return Err(bad(format!(
                "{} base values for {outputs} outputs",
                base.len()
            )));
        }
        Ok(Ensemble {
            flat,
            binary_one_score: classifier && outputs == 2 && ids.iter().eq([0u32].iter()),
            weights_all_positive: leaves.iter().all(|l| l.1 >= 0.0),
            nodes,
            roots: roots.into_iter().map(|r| r.1).collect(),
            leaves,
            features: max_feature,
            labels,
            outputs,
            base,
            aggregate,
            post,
        })
    }

    /// Runs every row of `x` (rows × `width`): the label column
    /// (classifiers) and the scores (rows × outputs).
    pub fn run(&self, x: &[f32], width: usize) -> Result<(Option<Vec<i64>>, Vec<f64>), Error> {
        if width < self.features {
            return Err(bad(format!(
                "the rows have {width} features; the trees read feature {}",
                self.features - 1
            )));
        }
        let width = width.max(1);
        let rows = x.len() / width;
        let mut labels = self.labels.as_ref().map(|_| Vec::with_capacity(rows));
        let mut scores = Vec::with_capacity(rows * self.outputs);
        let k = self.outputs;
        let mut acc = vec![0f32; BLOCK * k];
        let mut has = vec![false; BLOCK * k];
        let mut at = [0u32; BLOCK];
        for block in x.chunks(BLOCK * width) {
            let n = block.len() / width;
            acc.iter_mut().for_each(|a| *a = 0.0);
            has.iter_mut().for_each(|h| *h = false);
            let (Some(acc), Some(has), Some(at)) =
                (acc.get_mut(..n * k), has.get_mut(..n * k), at.get_mut(..n))
            else {
                continue;
            };
            for (t, &root) in self.roots.iter().enumerate() {
                match &self.flat {
                    Some(f) => {
                        let depth = f.trees.get(t).map_or(0, |d| d.1);
                        f.walk(root, depth, block, width, at);
                    }
                    None => {
                        for (a, row) in at.iter_mut().zip(block.chunks_exact(width)) {
                            *a = self.leaf(root, row);
                        }
                    }
                }
                for ((&node, acc), has) in at.iter().zip(acc.chunks_mut(k)).zip(has.chunks_mut(k)) {
                    self.add_leaf(node, acc, has);
                }
            }
            for (acc, has) in acc.chunks_mut(k).zip(has.chunks_mut(k)) {
                if self.aggregate == Aggregate::Average {
                    let n = self.roots.len().max(1) as f32;
                    acc.iter_mut().for_each(|a| *a /= n);
                }
                let (label, row_scores) = match &self.labels {
                    Some(l) => self.classify(acc, has, l),
                    None => (0, self.regress(acc)),
                };
                if let Some(ls) = labels.as_mut() {
                    ls.push(label);
                }
                scores.extend(row_scores.iter().map(|&v| f64::from(v)));
            }
        }
        Ok((labels, scores))
    }

    /// Adds the weights of the leaf `node` to a row's scores.
    fn add_leaf(&self, node: u32, acc: &mut [f32], has: &mut [bool]) {
        let Some(Node::Leaf { start, end }) = self.nodes.get(node as usize) else {
            return;
        };
        for &(id, w) in self
            .leaves
            .get(*start as usize..*end as usize)
            .unwrap_or_default()
        {
            let (Some(a), Some(h)) = (acc.get_mut(id as usize), has.get_mut(id as usize)) else {
                continue;
            };
            *a = match (self.aggregate, *h) {
                (Aggregate::Min, true) => a.min(w),
                (Aggregate::Max, true) => a.max(w),
                (_, true) => *a + w,
                (_, false) => w,
            };
            *h = true;
        }
    }

    /// The leaf `row` reaches from `root` (any comparison).
    fn leaf(&self, root: u32, row: &[f32]) -> u32 {
        let mut i = root;
        // Acyclic (checked at parse): at most one step per node.
        for _ in 0..=self.nodes.len() {
            match self.nodes.get(i as usize) {
                Some(Node::Leaf { .. }) => return i,
                Some(Node::Branch {
                    feature,
                    value,
                    cmp,
                    yes,
                    no,
                    nan_yes,
                }) => {
                    let v = row.get(*feature as usize).copied().unwrap_or(f32::NAN);
                    let go = if v.is_nan() {
                        *nan_yes
                    } else {
                        match cmp {
                            Cmp::Leq => v <= *value,
                            Cmp::Lt => v < *value,
                            Cmp::Gte => v >= *value,
                            Cmp::Gt => v > *value,
                            Cmp::Eq => v == *value,
                            Cmp::Neq => v != *value,
                        }
                    };
                    i = if go { *yes } else { *no };
                }
                None => break,
            }
        }
        u32::MAX
    }

    fn regress(&self, acc: &mut [f32]) -> Vec<f32> {
        for (a, b) in acc.iter_mut().zip(&self.base) {
            *a += b;
        }
        let mut out = acc.to_vec();
        post(self.post, &mut out);
        out
    }

    /// onnxruntime's `FinalizeScores` for classifiers.
    fn classify(&self, acc: &mut [f32], has: &mut [bool], labels: &[i64]) -> (i64, Vec<f32>) {
        let label = |k: usize| labels.get(k).copied().unwrap_or(0);
        if self.outputs == 2 && !self.binary_one_score {
            // Two scores: the second class wins only when it is higher.
            for (k, b) in self.base.iter().enumerate() {
                if let Some(a) = acc.get_mut(k) {
                    *a += b;
                }
            }
            let l = if acc.get(1) > acc.first() {
                label(1)
            } else {
                label(0)
            };
            let mut out = acc.to_vec();
            post(self.post, &mut out);
            return (l, out);
        }
        if self.outputs > 2 {
            for (k, b) in self.base.iter().enumerate() {
                if let (Some(a), Some(h)) = (acc.get_mut(k), has.get_mut(k)) {
                    *a += b;
                    *h = true;
                }
            }
            let mut best: Option<usize> = None;
            for k in 0..self.outputs {
                if has.get(k) == Some(&true) && best.is_none_or(|b| acc.get(k) > acc.get(b)) {
                    best = Some(k);
                }
            }
            let mut out = acc.to_vec();
            post(self.post, &mut out);
            return (label(best.unwrap_or(0)), out);
        }
        // Binary, one score: the leaves score class id 0 only, which
        // onnxruntime takes as the second class's score, with the first
        // base value added.
        let mut s = acc.first().copied().unwrap_or(0.0);
        if let Some(b) = self.base.first() {
            s += b;
        }
        if self.weights_all_positive {
            let l = if s > 0.5 { label(1) } else { label(0) };
            (l, vec![1.0 - s, s])
        } else {
            let l = if s > 0.0 { label(1) } else { label(0) };
            let pair = if self.post == Post::Logistic {
                vec![logistic(-s), logistic(s)]
            } else {
                vec![-s, s]
            };
            (l, pair)
        }
    }
}

fn logistic(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

fn post(p: Post, v: &mut [f32]) {
    match p {
        Post::None => {}
        Post::Logistic => v.iter_mut().for_each(|x| *x = logistic(*x)),
        Post::Softmax => {
            let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for x in v.iter_mut() {
                *x = (*x - max).exp();
                sum += *x;
            }
            v.iter_mut().for_each(|x| *x /= sum);
        }
    }
}

/// Every path from a root ends at a leaf within as many steps as there
/// are nodes: a cyclic (hostile) tree is refused, not run forever.
/// Checks that every tree is acyclic; returns each node's depth (the
/// most branches on a path from it to a leaf).
fn check_acyclic(nodes: &[Node], roots: &[(i64, u32)]) -> Result<Vec<u32>, Error> {
    let mut state = vec![0u8; nodes.len()]; // 0 new, 1 on the path, 2 done
    let mut depth = vec![0u32; nodes.len()];
    for &(_, root) in roots {
        let mut stack = vec![(root, false)];
        while let Some((i, leaving)) = stack.pop() {
            let Some(s) = state.get_mut(i as usize) else {
                return Err(bad("a branch leaves the tree"));
            };
            if leaving {
                *s = 2;
                // Its children are done: their depths are known.
                if let Some(Node::Branch { yes, no, .. }) = nodes.get(i as usize) {
                    let below = |c: &u32| depth.get(*c as usize).copied().unwrap_or(0);
                    let d = 1 + below(yes).max(below(no));
                    if let Some(slot) = depth.get_mut(i as usize) {
                        *slot = d;
                    }
                }
                continue;
            }
            match *s {
                1 => return Err(bad("a tree has a cycle")),
                2 => continue,
                _ => *s = 1,
            }
            stack.push((i, true));
            if let Some(Node::Branch { yes, no, .. }) = nodes.get(i as usize) {
                stack.push((*yes, false));
                stack.push((*no, false));
            }
        }
    }
    Ok(depth)
}

/// A graph that is one tree ensemble and what follows it: Identity,
/// Cast, and multiplication by the constant one (lightgbm's exports).
/// Each graph output, as the ensemble's output it is (0: labels, 1:
/// scores; a regressor has only scores).
pub fn plan(graph: &pb::GraphProto) -> Option<(Ensemble, Vec<usize>)> {
    let trees: Vec<&pb::NodeProto> = graph
        .node
        .iter()
        .filter(|n| n.op_type == "TreeEnsembleClassifier" || n.op_type == "TreeEnsembleRegressor")
        .collect();
    let [tree] = trees.as_slice() else {
        return None;
    };
    let input = graph
        .input
        .iter()
        .find(|i| !graph.initializer.iter().any(|t| t.name == i.name))?;
    if tree.input.first() != Some(&input.name) {
        return None;
    }
    let ones: Vec<&str> = graph
        .initializer
        .iter()
        .filter(|t| t.float_data == [1.0] || t.raw_data == 1f32.to_le_bytes())
        .map(|t| t.name.as_str())
        .collect();
    // Names that carry output k of the ensemble.
    let mut carries: HashMap<&str, usize> = HashMap::new();
    let regressor = tree.op_type == "TreeEnsembleRegressor";
    for (k, name) in tree.output.iter().enumerate() {
        carries.insert(name.as_str(), if regressor { 1 } else { k });
    }
    for n in &graph.node {
        if std::ptr::eq(n, *tree) {
            continue;
        }
        let passes = match n.op_type.as_str() {
            "Identity" | "Cast" => n.input.len() == 1,
            "Mul" => n.input.len() == 2 && n.input.iter().any(|i| ones.contains(&i.as_str())),
            _ => false,
        };
        if !passes {
            return None;
        }
        let from = n
            .input
            .iter()
            .find_map(|i| carries.get(i.as_str()).copied())?;
        for o in &n.output {
            carries.insert(o.as_str(), from);
        }
    }
    let outputs = graph
        .output
        .iter()
        .map(|o| carries.get(o.name.as_str()).copied())
        .collect::<Option<Vec<usize>>>()?;
    let ensemble = Ensemble::parse(tree).ok()?;
    Some((ensemble, outputs))
}

/// The graph's outputs for `x`, as tract would give them.
pub fn columns(
    e: &Ensemble,
    outputs: &[usize],
    x: &[f32],
    width: usize,
) -> Result<Vec<Column>, Error> {
    let (labels, scores) = e.run(x, width)?;
    outputs
        .iter()
        .map(|&k| match (k, &labels) {
            (0, Some(l)) => Ok(Column::Int(l.clone())),
            (0, None) => Err(bad("a regressor has no labels")),
            _ => Ok(Column::Float(scores.clone())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(modes: &[&str], yes: &[i64], no: &[i64]) -> pb::NodeProto {
        let n = modes.len() as i64;
        let ints = |name: &str, v: Vec<i64>| pb::AttributeProto {
            name: name.into(),
            ints: v,
            ..Default::default()
        };
        let floats = |name: &str, v: Vec<f32>| pb::AttributeProto {
            name: name.into(),
            floats: v,
            ..Default::default()
        };
        pb::NodeProto {
            op_type: "TreeEnsembleRegressor".into(),
            attribute: vec![
                ints("nodes_treeids", vec![0; n as usize]),
                ints("nodes_nodeids", (0..n).collect()),
                ints("nodes_featureids", vec![0; n as usize]),
                floats("nodes_values", vec![0.5; n as usize]),
                ints("nodes_truenodeids", yes.to_vec()),
                ints("nodes_falsenodeids", no.to_vec()),
                pb::AttributeProto {
                    name: "nodes_modes".into(),
                    strings: modes.iter().map(|m| m.as_bytes().to_vec()).collect(),
                    ..Default::default()
                },
                ints("target_treeids", vec![0, 0]),
                ints("target_nodeids", vec![1, 2]),
                ints("target_ids", vec![0, 0]),
                floats("target_weights", vec![10.0, 20.0]),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn a_stump_scores_by_its_branch_and_nan_goes_false() {
        let e = Ensemble::parse(&node(
            &["BRANCH_LEQ", "LEAF", "LEAF"],
            &[1, 0, 0],
            &[2, 0, 0],
        ))
        .unwrap();
        let (_, s) = e.run(&[0.2, 0.9, f32::NAN], 1).unwrap();
        assert_eq!(s, vec![10.0, 20.0, 20.0]);
    }

    #[test]
    fn hostile_trees_are_refused() {
        // Node 1 branches back to the root: no root, or a cycle.
        let cyclic = node(
            &["BRANCH_LEQ", "BRANCH_LEQ", "LEAF"],
            &[1, 0, 0],
            &[2, 2, 0],
        );
        assert!(Ensemble::parse(&cyclic).is_err());
        let dangling = node(&["BRANCH_LEQ", "LEAF", "LEAF"], &[1, 0, 0], &[7, 0, 0]);
        let e = Ensemble::parse(&dangling).unwrap_err().to_string();
        assert!(e.contains("node 7"), "{e}");
        let mode = node(&["BRANCH_XOR", "LEAF", "LEAF"], &[1, 0, 0], &[2, 0, 0]);
        assert!(Ensemble::parse(&mode).is_err());
    }
}
