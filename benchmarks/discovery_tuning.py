"""How the discovery settings were chosen: a grid on EUvsDisinfo claims dated *before* 2019 only.

Protocol (docs/discovery.md): encoder adaptations are trained on claims dated 2015-2016 and every setting is
scored on claims dated 2017-2018 (2,291 claims) — never on the 2019-on claims ``discovery_quality.py`` reports.
Selection rule: among settings that leave at most 15 % outliers, the highest NMI + purity.

Grid: vectors (MiniLM as is; an LDA projection to 128 dimensions learned on the 2015-2016 tags; a linear map
trained with a supervised contrastive loss on the 2015-2016 claims grouped by shared tag) x UMAP neighbours
(8, 15) x HDBSCAN min_cluster_size (3, 4, 6) x selection (eom, leaf) x merging of clusters whose centroids are
within cosine 0.9 x outlier reassignment floor (none, 0.5, 0.6, 0.7). Prints one JSON line per setting and the
winner. Takes ~15 min on 2 busy cores; needs the EUvsDisinfo posts.csv (``--corpus``, default ../shared).

    nice python benchmarks/discovery_tuning.py [--vectors-cache /tmp/euvs.npy] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from _data import EUVSDISINFO, add_option, require  # noqa: E402


def lda_projection(vectors, tag_sets, k=128, min_class=5):
    """Rows of every (claim, tag) pair whose tag has >= min_class claims; scikit-learn LDA, shrinkage 'auto'."""
    from collections import Counter

    import numpy as np
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    pairs = [(i, t) for i, tags in enumerate(tag_sets) for t in tags if t]
    counts = Counter(t for _, t in pairs)
    pairs = [(i, t) for i, t in pairs if counts[t] >= min_class]
    lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(vectors[[i for i, _ in pairs]], [t for _, t in pairs])
    return lda.scalings_[:, :k].astype(np.float32)


def supcon_projection(vectors, tag_sets, epochs=10, tau=0.1, seed=0):
    """A 384x384 linear map (initialised at the identity) trained with a supervised contrastive loss: claims that
    share a tag are positives. Returns the weight matrix (apply as ``vectors @ W.T``)."""
    import numpy as np
    import torch

    torch.manual_seed(seed)
    vocab = {t: j for j, t in enumerate(sorted({t for tags in tag_sets for t in tags if t}))}
    y = torch.zeros(len(tag_sets), len(vocab))
    for i, tags in enumerate(tag_sets):
        for t in tags:
            if t:
                y[i, vocab[t]] = 1
    x = torch.tensor(vectors)
    positive = ((y @ y.T) > 0).float()
    model = torch.nn.Linear(x.shape[1], x.shape[1], bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(x.shape[1]))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-3)
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), 256):
            ids = order[start : start + 256]
            z = torch.nn.functional.normalize(model(x[ids]), dim=1)
            logits = z @ z.T / tau - torch.eye(len(ids)) * 1e9
            logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
            mask = positive[ids][:, ids].clone()
            mask.fill_diagonal_(0)
            has = mask.sum(1) > 0
            loss = -((logp * mask).sum(1)[has] / mask.sum(1)[has]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.weight.detach().numpy().T.astype(np.float32)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--vectors-cache", default="")
    parser.add_argument("--quick", action="store_true", help="MiniLM vectors as is, UMAP 15 neighbours only")
    args = parser.parse_args(argv)
    corpus = require(EUVSDISINFO, args.corpus)

    import numpy as np

    from discovery_quality import load_claims, score
    from narrative_tracker.narratives.discover import HdbscanClusterer, UmapReducer, merge_same_claims, reassign_outliers
    from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder

    frame = load_claims(corpus)
    texts = frame["title"].fill_null("").to_list()
    if args.vectors_cache and Path(args.vectors_cache).exists():
        vectors = np.load(args.vectors_cache, allow_pickle=False)
    else:
        vectors = SentenceTransformerEmbedder().encode(texts)
        if args.vectors_cache:
            np.save(args.vectors_cache, vectors)
    train = frame.filter(frame["date"] < "2017-01-01")
    val = frame.filter((frame["date"] >= "2017-01-01") & (frame["date"] < "2019-01-01"))
    tags = val["tags"].to_list()
    spaces = {"minilm": vectors[val["row"].to_numpy()]}
    if not args.quick:
        tv, tt = vectors[train["row"].to_numpy()], train["tags"].to_list()
        spaces["lda128"] = spaces["minilm"] @ lda_projection(tv, tt)
        spaces["supcon"] = spaces["minilm"] @ supcon_projection(tv, tt)
    best = None
    for name, space in spaces.items():
        space = space / np.linalg.norm(space, axis=1, keepdims=True)
        for neighbours in (15,) if args.quick else (8, 15):
            reduced = UmapReducer(n_neighbors=neighbours).fit_transform(space)
            for mcs in (3, 4, 6):
                for selection in ("eom", "leaf"):
                    labels = HdbscanClusterer(min_cluster_size=mcs, min_samples=1, selection=selection).fit_predict(reduced)
                    merged = merge_same_claims(space, labels, 0.9)
                    found = sorted(set(merged[merged >= 0].tolist()))
                    if not found:
                        continue
                    centroids = np.stack([space[merged == c].mean(axis=0) for c in found])
                    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
                    for floor in (None, 0.5, 0.6, 0.7):
                        final = merged if floor is None else reassign_outliers(space, merged, found, centroids, floor)
                        row = {"vectors": name, "umap_neighbors": neighbours, "min_cluster_size": mcs, "selection": selection,
                               "merge_cosine": 0.9, "reassign_floor": floor, **score(final, tags)}
                        print(json.dumps(row), flush=True)
                        if row["outlier_share"] <= 0.15 and (best is None or row["nmi"] + row["purity"] > best["nmi"] + best["purity"]):
                            best = row
    print("selected:", json.dumps(best))
    return best or {}


if __name__ == "__main__":
    main()
