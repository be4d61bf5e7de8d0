"""Float64 parity with PyTorch: outputs, DL4J scores, gradients and updater trajectories.

Each test builds an eigennet model, copies its initial parameters into the equivalent torch.nn
network (eigennet's ``W`` is (n_in, n_out), so ``Linear.weight = W.T``) and checks that both compute
the same thing to ~1e-10 relative.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import eigennet as en

torch.set_num_threads(1)

N, N_IN, N_HIDDEN, N_OUT = 20, 5, 7, 3
RTOL = 1e-10

TORCH_ACTIVATIONS = {
    "identity": torch.nn.Identity,
    "tanh": torch.nn.Tanh,
    "relu": torch.nn.ReLU,
    "sigmoid": torch.nn.Sigmoid,
    "leakyrelu": lambda: torch.nn.LeakyReLU(0.01),
    "elu": lambda: torch.nn.ELU(1.0),
    "selu": torch.nn.SELU,
    "softplus": torch.nn.Softplus,
    "softsign": torch.nn.Softsign,
    "swish": torch.nn.SiLU,
    "mish": torch.nn.Mish,
    "gelu": torch.nn.GELU,
    "relu6": torch.nn.ReLU6,
    "hardtanh": torch.nn.Hardtanh,
}


# ---------------------------------------------------------------------------------------- helpers
def assert_close(actual, expected, rtol=RTOL, what=""):
    """Element-wise relative comparison, with an absolute floor scaled to the array's magnitude
    (a relative check of an element that is ~0 only through cancellation is meaningless)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    scale = max(float(np.abs(expected).max()), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def make_data(loss, n=N, n_out=N_OUT, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_IN))
    if loss == "mcxent":
        y = rng.integers(0, n_out, size=n)
        y[:n_out] = np.arange(n_out)  # every class present
    elif loss == "xent":
        y = (rng.random(size=(n, n_out)) < 0.5).astype(np.float64)
    else:
        y = rng.normal(size=(n, n_out))
    return X, y


def make_model(hidden=("tanh",), out_act="softmax", loss="mcxent", n_out=N_OUT, updater=None, seed=7, **kwargs):
    layers = [en.Dense(N_HIDDEN, activation=act) for act in hidden]
    layers.append(en.Output(n_out, activation=out_act, loss=loss))
    return en.Sequential(layers, input_dim=N_IN, updater=updater, seed=seed, dtype="float64", **kwargs)


class TorchTwin(torch.nn.Module):
    """The torch network with the eigennet model's current parameters; forward returns the
    pre-activation of the output layer (the losses take logits)."""

    def __init__(self, model, hidden):
        super().__init__()
        self.linears = torch.nn.ModuleList()
        self.activations = [TORCH_ACTIVATIONS[a]() for a in hidden]
        for i in range(len(hidden) + 1):
            W = model.get_param(i, "W")
            b = model.get_param(i, "b")
            lin = torch.nn.Linear(W.shape[0], W.shape[1], dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W.T.copy()))
                lin.bias.copy_(torch.from_numpy(b.copy()))
            self.linears.append(lin)

    def forward(self, x):
        for lin, act in zip(self.linears, self.activations):
            x = act(lin(x))
        return self.linears[-1](x)

    def weights(self):
        return [lin.weight for lin in self.linears]

    def biases(self):
        return [lin.bias for lin in self.linears]

    def flat(self):
        """Parameters laid out as eigennet's model.params()."""
        parts = []
        for lin in self.linears:
            parts += [lin.weight.detach().numpy().T.ravel(), lin.bias.detach().numpy().ravel()]
        return np.concatenate(parts)

    def flat_grad(self):
        parts = []
        for lin in self.linears:
            parts += [lin.weight.grad.numpy().T.ravel(), lin.bias.grad.numpy().ravel()]
        return np.concatenate(parts)


def torch_output(z, out_act):
    return {"softmax": lambda: torch.softmax(z, dim=1), "sigmoid": lambda: torch.sigmoid(z),
            "identity": lambda: z}[out_act]()


def torch_loss(z, y, loss):
    if loss == "mcxent":
        return F.cross_entropy(z, y)
    if loss == "mse":
        return F.mse_loss(z, y)  # mean over all elements = DL4J MSE (per-sample mean over outputs)
    if loss == "xent":
        return F.binary_cross_entropy_with_logits(z, y, reduction="sum") / z.shape[0]
    raise AssertionError(loss)


def torch_targets(y, loss):
    return torch.from_numpy(y.astype(np.int64) if loss == "mcxent" else y.astype(np.float64))


def penalty(net, l1, l2, regularize_bias):
    params = net.weights() + (net.biases() if regularize_bias else [])
    total = torch.zeros((), dtype=torch.float64)
    for p in params:
        total = total + 0.5 * l2 * (p * p).sum() + l1 * p.abs().sum()
    return total


# ---------------------------------------------------------------- outputs, scores and gradients
CASES = [
    # hidden activations, output activation, loss, n_out, l1, l2, regularize_bias
    (("tanh",), "softmax", "mcxent", 3, 0.0, 0.0, False),
    (("relu", "tanh"), "softmax", "mcxent", 3, 0.0, 0.01, False),
    (("sigmoid",), "softmax", "mcxent", 4, 0.003, 0.0, False),
    (("tanh",), "identity", "mse", 3, 0.002, 0.05, False),
    (("elu",), "identity", "mse", 1, 0.0, 0.02, True),
    (("tanh",), "sigmoid", "xent", 3, 0.0, 0.0, False),
    (("softplus",), "sigmoid", "xent", 1, 0.01, 0.03, True),
]


@pytest.mark.parametrize("hidden,out_act,loss,n_out,l1,l2,reg_bias", CASES)
def test_output_score_and_gradient_match_torch(hidden, out_act, loss, n_out, l1, l2, reg_bias):
    X, y = make_data(loss, n_out=n_out, seed=1)
    model = make_model(hidden, out_act, loss, n_out=n_out, l1=l1, l2=l2, regularize_bias=reg_bias)
    net = TorchTwin(model, hidden)
    assert_close(model.params(), net.flat(), rtol=0, what="copied parameters")

    Xt = torch.from_numpy(X)
    z = net(Xt)
    out = torch_output(z, out_act)
    assert_close(model.predict_output(X), out.detach().numpy(), what="predict_output")
    if loss == "mcxent":
        assert_close(model.predict_proba(X), out.detach().numpy(), what="predict_proba")
        np.testing.assert_array_equal(model.predict(X), out.detach().numpy().argmax(axis=1))
    elif loss == "xent" and n_out == 1:
        p = out.detach().numpy()
        assert_close(model.predict_proba(X), np.hstack([1 - p, p]), what="binary predict_proba")

    total = torch_loss(z, torch_targets(y, loss), loss) + penalty(net, l1, l2, reg_bias)
    total.backward()
    assert model.score(X, y) == pytest.approx(total.item(), rel=RTOL, abs=0)

    grad = model.compute_gradients(X, y)
    assert grad.shape == (model.num_params,)
    assert_close(grad, net.flat_grad(), what="gradient")


def test_mcxent_accepts_one_hot_labels_like_integer_labels():
    X, y = make_data("mcxent", seed=2)
    model = make_model()
    one_hot = np.eye(N_OUT)[y]
    assert model.score(X, one_hot) == model.score(X, y)
    np.testing.assert_array_equal(model.compute_gradients(X, one_hot), model.compute_gradients(X, y))


def test_regularisation_penalty_and_gradient_cover_weights_only_by_default():
    X, y = make_data("mse", seed=3)
    plain = make_model(out_act="identity", loss="mse")
    l2 = make_model(out_act="identity", loss="mse", l2=0.1)
    l1 = make_model(out_act="identity", loss="mse", l1=0.1)
    np.testing.assert_array_equal(plain.params(), l2.params())
    weights = sum(float((plain.get_param(i, "W") ** 2).sum()) for i in range(2))
    abs_weights = sum(float(np.abs(plain.get_param(i, "W")).sum()) for i in range(2))
    assert l2.score(X, y) - plain.score(X, y) == pytest.approx(0.5 * 0.1 * weights, rel=1e-12)
    assert l1.score(X, y) - plain.score(X, y) == pytest.approx(0.1 * abs_weights, rel=1e-12)
    diff2 = l2.compute_gradients(X, y) - plain.compute_gradients(X, y)
    diff1 = l1.compute_gradients(X, y) - plain.compute_gradients(X, y)
    expected2, expected1 = [], []
    for i in range(2):
        W, b = plain.get_param(i, "W"), plain.get_param(i, "b")
        expected2 += [0.1 * W.ravel(), np.zeros_like(b)]
        expected1 += [0.1 * np.sign(W).ravel(), np.zeros_like(b)]
    assert_close(diff2, np.concatenate(expected2), rtol=1e-12)
    assert_close(diff1, np.concatenate(expected1), rtol=1e-12)


@pytest.mark.parametrize("activation", sorted(set(TORCH_ACTIVATIONS) - {"identity"}))
def test_hidden_activation_forward_and_backward_match_torch(activation):
    X, y = make_data("mcxent", seed=4)
    X = 2.5 * X  # reach the saturating / clipped regions of relu6, hardtanh, ...
    model = make_model(hidden=(activation,))
    net = TorchTwin(model, (activation,))
    z = net(torch.from_numpy(X))
    assert_close(model.predict_output(X), torch.softmax(z, 1).detach().numpy(), what="output")
    F.cross_entropy(z, torch_targets(y, "mcxent")).backward()
    assert_close(model.compute_gradients(X, y), net.flat_grad(), what="gradient")


# ---------------------------------------------------------------------------- updater trajectories
STEPS = 20


def with_dl4j_rmsprop_start(eps):
    """torch RMSprop starts square_avg at 0, DL4J at eps: seed torch's state with eps."""

    def prepare(optimizer):
        for group in optimizer.param_groups:
            for p in group["params"]:
                optimizer.state[p] = {"step": torch.tensor(0.0, dtype=torch.float64),
                                      "square_avg": torch.full_like(p, eps, memory_format=torch.preserve_format)}

    return prepare


TRAJECTORY_CASES = {
    "sgd": (en.SGD(learning_rate=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1), None),
    "nesterovs": (en.Nesterovs(learning_rate=0.05, momentum=0.9),
                  lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True), None),
    "adagrad": (en.AdaGrad(learning_rate=0.1, epsilon=1e-6),
                lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=1e-6, initial_accumulator_value=1e-6, foreach=False),
                None),
    "adagrad_big_eps": (en.AdaGrad(learning_rate=0.1, epsilon=0.01),
                        lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=0.01, initial_accumulator_value=0.01,
                                                       foreach=False), None),
    "rmsprop": (en.RMSProp(learning_rate=0.01, rms_decay=0.9, epsilon=1e-8),
                lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-8, foreach=False),
                with_dl4j_rmsprop_start(1e-8)),
    "rmsprop_big_eps": (en.RMSProp(learning_rate=0.01, rms_decay=0.95, epsilon=0.01),
                        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.95, eps=0.01, foreach=False),
                        with_dl4j_rmsprop_start(0.01)),
    "adadelta": (en.AdaDelta(rho=0.9, epsilon=1e-6),
                 lambda ps: torch.optim.Adadelta(ps, lr=1.0, rho=0.9, eps=1e-6, foreach=False), None),
    "adam": (en.Adam(learning_rate=0.01, beta1=0.9, beta2=0.99, epsilon=0.0),
             lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.99), eps=0.0, foreach=False), None),
    "amsgrad": (en.AMSGrad(learning_rate=0.01, beta1=0.8, beta2=0.9, epsilon=0.0),
                lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.9), eps=0.0, amsgrad=True, foreach=False),
                None),
    "adamax": (en.AdaMax(learning_rate=0.01, beta1=0.9, beta2=0.95, epsilon=0.0),
               lambda ps: torch.optim.Adamax(ps, lr=0.01, betas=(0.9, 0.95), eps=0.0, foreach=False), None),
}


def run_against_torch(model, hidden, loss, X, y, make_optimizer, prepare=None, batch_size=None, epochs=STEPS,
                      extra_loss=None, rtol=RTOL):
    """Trains the model and its torch twin on the same mini-batches (no shuffling) and compares
    the parameters after every epoch. Returns the number of torch steps taken."""
    net = TorchTwin(model, hidden)
    optimizer = make_optimizer(net)
    if prepare is not None:
        prepare(optimizer)
    batch = len(X) if batch_size is None else batch_size
    Xt, yt = torch.from_numpy(X), torch_targets(y, loss)
    steps = 0
    start = model.params()
    for epoch in range(epochs):
        model.fit(X, y, epochs=1, batch_size=batch, shuffle=False, verbose=0)
        for s in range(0, len(X), batch):
            optimizer.zero_grad()
            value = torch_loss(net(Xt[s:s + batch]), yt[s:s + batch], loss)
            if extra_loss is not None:
                value = value + extra_loss(net)
            value.backward()
            optimizer.step()
            steps += 1
        assert_close(model.params(), net.flat(), rtol=rtol, what=f"parameters after epoch {epoch + 1}")
    assert model.iteration == steps
    assert not np.allclose(model.params(), start, rtol=1e-6, atol=0), "training did not move the parameters"
    return steps


@pytest.mark.parametrize("case", sorted(TRAJECTORY_CASES))
def test_updater_trajectory_matches_torch(case):
    updater, make_torch, prepare = TRAJECTORY_CASES[case]
    X, y = make_data("mcxent", seed=5)
    model = make_model(updater=updater)
    run_against_torch(model, ("tanh",), "mcxent", X, y, lambda net: make_torch(net.parameters()), prepare)


def test_rmsprop_differs_from_torch_without_the_eps_start():
    """Justifies the state seeding above: with torch's zero start the trajectories differ."""
    X, y = make_data("mcxent", seed=5)
    model = make_model(updater=en.RMSProp(learning_rate=0.01, rms_decay=0.9, epsilon=0.01))
    with pytest.raises(AssertionError, match="parameters after epoch 1"):
        run_against_torch(model, ("tanh",), "mcxent", X, y,
                          lambda net: torch.optim.RMSprop(net.parameters(), lr=0.01, alpha=0.9, eps=0.01),
                          epochs=3)


def test_updater_trajectory_two_hidden_layers_mse():
    """Adam over six parameter tensors: one bias-correction step per update, not per tensor."""
    X, y = make_data("mse", seed=6)
    hidden = ("tanh", "sigmoid")
    model = make_model(hidden, "identity", "mse", updater=en.Adam(learning_rate=0.02, epsilon=0.0))
    run_against_torch(model, hidden, "mse", X, y,
                      lambda net: torch.optim.Adam(net.parameters(), lr=0.02, eps=0.0, foreach=False))


def test_noop_leaves_parameters_unchanged():
    X, y = make_data("mcxent", seed=7)
    model = make_model(updater=en.NoOp(), l2=0.1, l1=0.01, weight_decay=0.5)
    start = model.params()
    assert np.abs(model.compute_gradients(X, y)).max() > 1e-3
    for _ in range(5):
        model.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_array_equal(model.params(), start)
    assert model.iteration == 25


@pytest.mark.parametrize("regularize_bias", [False, True])
def test_sgd_l2_matches_torch_weight_decay(regularize_bias):
    X, y = make_data("mcxent", seed=8)
    model = make_model(updater=en.SGD(learning_rate=0.2), l2=0.05, regularize_bias=regularize_bias)

    def optimizer(net):
        groups = [{"params": net.weights(), "weight_decay": 0.05},
                  {"params": net.biases(), "weight_decay": 0.05 if regularize_bias else 0.0}]
        return torch.optim.SGD(groups, lr=0.2)

    run_against_torch(model, ("tanh",), "mcxent", X, y, optimizer)


def test_adam_l2_matches_torch_adam_coupled_weight_decay():
    X, y = make_data("mcxent", seed=9)
    model = make_model(updater=en.Adam(learning_rate=0.01, epsilon=0.0), l2=0.02)

    def optimizer(net):
        groups = [{"params": net.weights(), "weight_decay": 0.02}, {"params": net.biases(), "weight_decay": 0.0}]
        return torch.optim.Adam(groups, lr=0.01, eps=0.0, foreach=False)

    run_against_torch(model, ("tanh",), "mcxent", X, y, optimizer)


def test_sgd_l1_matches_torch_with_l1_penalty():
    X, y = make_data("mse", seed=10)
    model = make_model(out_act="identity", loss="mse", updater=en.SGD(learning_rate=0.1), l1=0.01)
    run_against_torch(model, ("tanh",), "mse", X, y, lambda net: torch.optim.SGD(net.parameters(), lr=0.1),
                      extra_loss=lambda net: penalty(net, 0.01, 0.0, False))


def test_decoupled_weight_decay_is_not_torch_l2():
    """weight_decay shrinks after the update (w -= lr*wd*w), which differs from coupled L2."""
    X, y = make_data("mcxent", seed=11)
    model = make_model(updater=en.SGD(learning_rate=0.2), weight_decay=0.05)
    with pytest.raises(AssertionError, match="parameters after epoch 1"):
        run_against_torch(model, ("tanh",), "mcxent", X, y,
                          lambda net: torch.optim.SGD([{"params": net.weights(), "weight_decay": 0.05},
                                                       {"params": net.biases()}], lr=0.2), epochs=3)


@pytest.mark.parametrize("batch_size", [N, 1, 5, 7], ids=["full", "online", "mini5", "mini7-ragged"])
def test_sgd_batch_sizes_match_torch_minibatches(batch_size):
    X, y = make_data("mcxent", seed=12)
    model = make_model(updater=en.SGD(learning_rate=0.05))
    epochs = STEPS if batch_size == N else 3
    steps = run_against_torch(model, ("tanh",), "mcxent", X, y,
                              lambda net: torch.optim.SGD(net.parameters(), lr=0.05), batch_size=batch_size,
                              epochs=epochs)
    assert steps == epochs * -(-N // batch_size)


def test_full_batch_and_online_sgd_differ():
    """The two regimes really are different (so the two parity checks above test different things)."""
    X, y = make_data("mcxent", seed=12)
    full = make_model(updater=en.SGD(learning_rate=0.05))
    online = make_model(updater=en.SGD(learning_rate=0.05))
    full.fit(X, y, epochs=1, batch_size=len(X), shuffle=False, verbose=0)
    online.fit(X, y, epochs=1, batch_size=1, shuffle=False, verbose=0)
    assert full.iteration == 1 and online.iteration == len(X)
    assert np.abs(full.params() - online.params()).max() > 1e-3
