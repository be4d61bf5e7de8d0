"""Writes the seed part of the fuzz corpus (tests/fuzz/corpus/seed-*): small valid models of both
dtypes covering every built-in layer family and updaters with state, plus hand-made hostile files
for the cases issue #7 names (truncated, oversized header, wrong version, inconsistent shapes,
configurations declaring huge layers). The fuzzer mutates these; the replay test keeps them all.

Run from the repository root with the package installed: python tests/fuzz/make_seeds.py
Files the fuzzer found (crash-*, found-*) are kept beside these and not touched here.
"""
import json
import os
import struct
import sys

import numpy as np

import eigennet as en

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def valid_models():
    x = np.random.default_rng(0).normal(size=(8, 3))
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    specs = {
        "dense": lambda dt: en.Sequential([en.Dense(4, activation="relu"), en.Output(3, loss="mcxent",
                                           activation="softmax")], input_dim=3, seed=1, dtype=dt),
        "adam-batchnorm-dropout": lambda dt: en.Sequential(
            [en.Dense(4), en.BatchNormalization(), en.Dropout(0.5), en.Output(3, loss="mcxent", activation="softmax")],
            input_dim=3, updater=en.Adam(), seed=2, dtype=dt),
        "pretrain": lambda dt: en.Sequential(
            [en.AutoEncoder(2), en.RBM(2), en.VariationalAutoencoder(2, encoder_layer_sizes=(3,), decoder_layer_sizes=(3,)), en.ActivationLayer("tanh"),
             en.LossLayer(loss="mse")], input_dim=3, updater=en.Nesterovs(), seed=3, dtype=dt),
    }
    for name, make in specs.items():
        for dt in ("float32", "float64"):
            model = make(dt)
            # One epoch gives the updater state and counters non-default values worth mutating.
            model.fit(x, x[:, :2] if name == "pretrain" else y, epochs=1, verbose=0)
            yield f"seed-valid-{name}-{dt}", model.to_bytes()


def frame(header, payload=b""):
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + payload


def hostile(valid):
    header_len = struct.unpack("<Q", valid[:8])[0]
    header = json.loads(valid[8:8 + header_len])
    payload = valid[8 + header_len:]
    meta = header["__metadata__"]
    config = json.loads(meta["config"])

    def with_meta(**changes):
        h = json.loads(json.dumps(header))
        h["__metadata__"].update(changes)
        return frame(h, payload)

    def with_config(cfg):
        return with_meta(config=json.dumps(cfg))

    yield "seed-truncated-half", valid[: len(valid) // 2]
    yield "seed-truncated-prefix", valid[:5]
    yield "seed-header-length-huge", struct.pack("<Q", 2**63 + 5) + valid[8:]
    yield "seed-header-length-past-end", struct.pack("<Q", len(valid)) + valid[8:]
    yield "seed-wrong-version", with_meta(format_version="2")
    yield "seed-not-eigennet", with_meta(format="other")
    h = json.loads(json.dumps(header))
    first = next(k for k in h if k != "__metadata__")
    h[first]["shape"] = [h[first]["shape"][0] + 1] + h[first]["shape"][1:]
    yield "seed-shape-mismatch", frame(h, payload)
    h = json.loads(json.dumps(header))
    h[first]["data_offsets"] = [0, 2**62]
    yield "seed-offsets-past-end", frame(h, payload)
    h = json.loads(json.dumps(header))
    h[first]["shape"] = [2**40, 2**40]
    yield "seed-shape-overflow", frame(h, payload)
    for width in (10**6, 2**31, 10**12):
        cfg = json.loads(json.dumps(config))
        cfg["layers"][0]["n_out"] = width
        yield f"seed-config-wide-dense-{width}", with_config(cfg)
        # The layer registry ignores case: "output" is an Output layer too, and once escaped the
        # size guard (3 x 2^31 weights, a 25 GB allocation from a 1 KB file).
        cfg = json.loads(json.dumps(config))
        cfg["layers"][-1]["type"] = "output"
        cfg["layers"][-1]["n_out"] = width
        yield f"seed-config-wide-lowercase-output-{width}", with_config(cfg)
    # Pretraining layers have weight matrices too, and were not covered by the size guard.
    loss = {"type": "Loss", "activation": "identity", "loss": "mse"}
    for name, layer in (("rbm", {"type": "RBM", "n_out": 2**31}),
                        ("autoencoder", {"type": "AutoEncoder", "n_out": 2**31}),
                        ("vae-encoder", {"type": "VariationalAutoencoder", "n_out": 2,
                                         "encoder_layer_sizes": [2**31], "decoder_layer_sizes": [2]}),
                        ("batchnorm", {"type": "BatchNormalization"})):
        cfg = {"input_dim": 2**31 if name == "batchnorm" else 3, "layers": [layer, loss]}
        yield f"seed-config-huge-{name}", with_config(cfg)
    cfg = json.loads(json.dumps(config))
    cfg["input_dim"] = 2**31
    yield "seed-config-huge-input", with_config(cfg)
    cfg = {"input_dim": 2**31, "layers": [{"type": "Activation", "activation": "relu"},
                                          {"type": "Loss", "loss": "mse"}]}
    yield "seed-config-paramless-huge-input", with_config(cfg)
    yield "seed-config-not-json", with_meta(config="{\"input_dim\": 3,")
    yield "seed-bad-rng", with_meta(rng="0 0 0 0 0 0")
    yield "seed-bad-iteration", with_meta(iteration="-1")
    yield "seed-deep-json", struct.pack("<Q", 2000) + b"[" * 2000
    yield "seed-invalid-utf8", struct.pack("<Q", 4) + b"{\"\xff\"}"


def main():
    os.makedirs(CORPUS, exist_ok=True)
    written = []
    valids = []
    for name, data in valid_models():
        valids.append(data)
        written.append((name, data))
    written.extend(hostile(valids[0]))
    written.extend((name.replace("seed-", "seed-f64-"), data) for name, data in hostile(valids[1])
                   if "config" in name)
    for name, data in written:
        with open(os.path.join(CORPUS, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(written)} seed files to {CORPUS}", file=sys.stderr)


if __name__ == "__main__":
    main()
