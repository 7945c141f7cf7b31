"""mmkit.rl: Gymnasium / SB3 fronts over the C++ VecMarketEnv, PPO training, export to the C++
"rl-policy" strategy and evaluation against the classic quotes (docs/rl.md)."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")
pytest.importorskip("stable_baselines3")

import mmkit  # noqa: E402
import mmkit.rl as rl  # noqa: E402
from mmkit.rl.evaluation import mean_ci, t_quantile_975  # noqa: E402
from mmkit.rl.sb3 import CurriculumCallback, SB3VecMarketEnv, curriculum_schedule  # noqa: E402
from mmkit.rl.training import load_rl_config  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MODEL = {"episode_steps": 20}
SYNTH = {"episode_steps": 20}
REPLAY_FILE = "binance_l2/usdm/btcusdt_20240718.gz"


def replay_config(data_dir: Path) -> dict:
    return {"episode_steps": 20, "path": str(data_dir / REPLAY_FILE)}


@pytest.fixture(params=["model", "synthetic", "replay"])
def kind_config(request):
    if request.param == "model":
        return "model", MODEL
    if request.param == "synthetic":
        return "synthetic", SYNTH
    return "replay", replay_config(request.getfixturevalue("data_dir"))


def rollout(env, seed, steps, action_seed=0):
    """obs/reward trajectory of `env` under seeded random actions (resets on episode end)."""
    rng = np.random.default_rng(action_seed)
    obs, _ = env.reset(seed=seed)
    traj = [obs.copy()]
    rewards = []
    for _ in range(steps):
        a = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
        obs, r, term, trunc, _ = env.step(a)
        traj.append(obs.copy())
        rewards.append(r)
        if term or trunc:
            obs, _ = env.reset()
            traj.append(obs.copy())
    return np.array(traj), np.array(rewards)


# --- Gymnasium Env ---------------------------------------------------------------------------------

# check_env's advice about unbounded observations and asymmetric action boxes: the C++ bounds are
# the market's (docs/rl.md), not normalized to [-1, 1] on purpose.
@pytest.mark.filterwarnings("ignore:.*Box (observation|action) space.*:UserWarning")
@pytest.mark.filterwarnings("ignore:.*symmetric and normalized space.*:UserWarning")
def test_market_making_env_passes_gymnasium_check_env(kind_config):
    from gymnasium.utils.env_checker import check_env
    kind, cfg = kind_config
    env = rl.MarketMakingEnv(kind, cfg, seed=3)
    check_env(env, skip_render_check=True)
    assert env.observation_space.shape == (len(env.obs_names),)
    assert env.action_space.shape == (len(env.action_names),)


def test_market_making_env_passes_sb3_check_env():
    from stable_baselines3.common.env_checker import check_env
    check_env(rl.MarketMakingEnv("model", MODEL, seed=3), warn=False)


def test_same_seed_gives_the_same_trajectory_and_another_seed_another(kind_config):
    kind, cfg = kind_config
    a_obs, a_rew = rollout(rl.MarketMakingEnv(kind, cfg, seed=0), 11, 45)
    b_obs, b_rew = rollout(rl.MarketMakingEnv(kind, cfg, seed=99), 11, 45)
    np.testing.assert_array_equal(a_obs, b_obs)
    np.testing.assert_array_equal(a_rew, b_rew)
    c_obs, c_rew = rollout(rl.MarketMakingEnv(kind, cfg, seed=0), 12, 45)
    assert not (np.array_equal(a_obs, c_obs) and np.array_equal(a_rew, c_rew))


def test_episode_ends_by_truncation_after_episode_steps_with_stats():
    env = rl.MarketMakingEnv("model", MODEL, seed=1)
    env.reset(seed=5)
    t_idx = env.obs_names.index("time_remaining")
    a = np.array([1.0, 1.0, 0.0], np.float32) if env.action_space.shape == (3,) else env.action_space.sample()
    total = 0.0
    for n in range(1, MODEL["episode_steps"] + 1):
        obs, r, term, trunc, info = env.step(a)
        total += r
        if n < MODEL["episode_steps"]:
            assert not (term or trunc)
    assert trunc and not term
    assert obs[t_idx] == pytest.approx(0.0, abs=1e-6)  # the episode's last observation, not the next first one
    assert info["episode"]["l"] == MODEL["episode_steps"]
    assert info["episode"]["r"] == pytest.approx(total)
    assert info["episode_stats"]["steps"] == MODEL["episode_steps"]
    with pytest.raises(RuntimeError):
        env.step(a)
    obs, _ = env.reset()
    assert obs[t_idx] == pytest.approx(1.0)


def test_unknown_kind_or_config_key_is_an_mmkit_error():
    with pytest.raises(mmkit.Error, match="known"):
        rl.MarketMakingEnv("nope")
    with pytest.raises(mmkit.Error, match="known"):
        rl.MarketMakingEnv("model", {"no_such_key": 1})


# --- Gymnasium VectorEnv ---------------------------------------------------------------------------

def test_vector_env_autoresets_in_the_same_step_with_final_obs_in_info():
    n = 4
    venv = rl.MarketVectorEnv("model", n, MODEL, seed=2)
    assert venv.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    t_idx = venv.obs_names.index("time_remaining")
    obs, _ = venv.reset(seed=7)
    assert obs.shape == (n, len(venv.obs_names)) and obs.dtype == np.float32
    rng = np.random.default_rng(0)
    rets = np.zeros(n)
    for step in range(1, MODEL["episode_steps"] + 1):
        obs, rew, term, trunc, info = venv.step(venv.action_space.sample() if step > 1 else
                                                rng.uniform(venv.single_action_space.low, venv.single_action_space.high,
                                                            (n, venv.single_action_space.shape[0])).astype(np.float32))
        rets += rew
    done = term | trunc
    assert done.all() and trunc.all()
    np.testing.assert_array_equal(info["_final_obs"], done)
    np.testing.assert_allclose(info["final_obs"][:, t_idx], 0.0, atol=1e-6)
    np.testing.assert_allclose(obs[:, t_idx], 1.0)  # same-step autoreset: already the new episodes
    np.testing.assert_allclose(info["final_info"]["episode"]["r"], rets)
    np.testing.assert_array_equal(info["final_info"]["episode"]["l"], MODEL["episode_steps"])
    obs, rew, term, trunc, info = venv.step(venv.action_space.sample())
    assert "final_obs" not in info


def test_vector_env_row_i_is_independent_of_the_batch_size():
    actions = np.random.default_rng(1).uniform(-1, 1, (30, 3)).astype(np.float32)
    one = rl.MarketVectorEnv("model", 1, MODEL, seed=0)
    many = rl.MarketVectorEnv("model", 5, MODEL, seed=0)
    lo, hi = one.single_action_space.low, one.single_action_space.high
    a1, _ = one.reset(seed=4)
    a5, _ = many.reset(seed=4)
    np.testing.assert_array_equal(a1[0], a5[0])
    for a in actions:
        act = np.clip(lo + (a[: lo.size] + 1) / 2 * (hi - lo), lo, hi).astype(np.float32)
        o1, r1, *_ = one.step(act[None, :])
        o5, r5, *_ = many.step(np.repeat(act[None, :], 5, axis=0))
        np.testing.assert_array_equal(o1[0], o5[0])
        assert r1[0] == r5[0]


# --- SB3 VecEnv adapter ----------------------------------------------------------------------------

def test_sb3_adapter_terminal_observation_truncation_flag_and_episode_info():
    n = 3
    env = SB3VecMarketEnv("model", n, MODEL, seed=1)
    t_idx = env.obs_names.index("time_remaining")
    env.seed(10)
    obs = env.reset()
    assert obs.shape == (n, len(env.obs_names))
    a = np.tile(np.array([1.0, 1.0, 0.0], np.float32), (n, 1))
    total = np.zeros(n)
    for step in range(MODEL["episode_steps"]):
        obs, rew, dones, infos = env.step(a)
        assert rew.dtype == np.float32 and dones.dtype == bool and len(infos) == n
        total += rew
        if step < MODEL["episode_steps"] - 1:
            assert not dones.any() and all("terminal_observation" not in i for i in infos)
    assert dones.all()
    for i, info in enumerate(infos):
        assert info["TimeLimit.truncated"] is True
        assert info["terminal_observation"].shape == obs[i].shape
        assert info["terminal_observation"][t_idx] == pytest.approx(0.0, abs=1e-6)
        assert info["episode"]["l"] == MODEL["episode_steps"]
        assert info["episode"]["r"] == pytest.approx(total[i], rel=1e-5, abs=1e-5)
        assert "pnl" in info["episode_stats"]
    np.testing.assert_allclose(obs[:, t_idx], 1.0)


def test_sb3_adapter_seed_reproduces_and_methods_reach_the_core():
    env = SB3VecMarketEnv("model", 2, MODEL, seed=1)
    a = np.tile(np.array([1.2, 1.0, 0.1], np.float32), (2, 1))

    def run():
        out = [env.reset()]
        for _ in range(25):
            out.append(env.step(a)[0])
        return np.array(out)

    assert env.seed(42) == [42, 43]
    first = run()
    env.seed(42)
    np.testing.assert_array_equal(first, run())
    assert env.get_attr("obs_dim") == [len(env.obs_names)] * 2
    assert env.get_attr("render_mode", indices=[1]) == [None]
    assert env.env_method("set_regime", "high") == [None, None]
    assert env.get_attr("regime") == ["high", "high"]
    assert env.env_is_wrapped(object) == [False, False]
    with pytest.raises(AttributeError):
        env.get_attr("no_such_attribute")
    with pytest.raises(mmkit.Error):
        env.env_method("set_regime", "extreme")
    opt = env.env_method("optimal_action")
    assert len(opt) == 2 and opt[0].shape == (len(env.action_names),)


@pytest.mark.parametrize("kind", ["model", "synthetic"])
def test_observations_and_rewards_stay_finite_under_vec_check_nan(kind):
    """Exploration around the classic action (PPO's start) for 64 envs x 3,000 steps (5 synthetic
    episodes of 600 steps): VecCheckNan raises on any NaN / inf in observations or rewards."""
    from stable_baselines3.common.vec_env import VecCheckNan
    n = 64
    env = VecCheckNan(SB3VecMarketEnv(kind, n, {}, seed=1), raise_exception=True)
    env.reset()
    rng = np.random.default_rng(0)
    lo, hi = env.action_space.low, env.action_space.high
    for _ in range(3000):
        a = np.clip(np.array([1.0, 1.0, 0.0], np.float32) + rng.normal(0, 0.37, (n, 3)).astype(np.float32), lo, hi)
        env.step(a)


# --- curriculum, config ----------------------------------------------------------------------------

def test_curriculum_schedule_fractions_and_steps():
    s = curriculum_schedule([{"regime": "low", "fraction": 0.25}, {"regime": "high", "steps": 300},
                             {"regime": "switching", "fraction": 0.5}], 1000)
    assert s == [(0, "low"), (250, "high"), (550, "switching")]
    with pytest.raises(ValueError, match="regime"):
        curriculum_schedule([{"regime": "extreme", "steps": 1}], 10)
    with pytest.raises(ValueError, match="exactly one"):
        curriculum_schedule([{"regime": "low", "steps": 1, "fraction": 0.5}], 10)


def test_curriculum_callback_sets_the_regime_at_phase_boundaries():
    from stable_baselines3 import PPO
    env = SB3VecMarketEnv("model", 4, MODEL, seed=3)
    calls = []
    orig = env.core.set_regime
    env.core = _Spy(env.core, lambda r: (calls.append(r), orig(r)))
    cb = CurriculumCallback([(0, "low"), (64, "high"), (128, "switching")])
    PPO("MlpPolicy", env, n_steps=16, batch_size=64, n_epochs=1, seed=0, device="cpu").learn(192, callback=cb)
    assert calls == ["low", "high", "switching"]
    assert [h[1] for h in cb.history] == ["low", "high", "switching"]
    assert cb.history[1][0] >= 64 and cb.history[1][0] < 64 + 4


class _Spy:
    def __init__(self, core, on_set):
        self._core, self._on_set = core, on_set

    def set_regime(self, r):
        self._on_set(r)

    def __getattr__(self, name):
        return getattr(self._core, name)


def test_rl_config_file_parses_and_unknown_keys_are_errors(tmp_path):
    cfg = load_rl_config(REPO / "configs" / "rl.toml")
    assert cfg == load_rl_config(None)  # the file shows the defaults
    assert cfg["ppo"]["learning_rate"] == 3e-4 and cfg["ppo"]["net_arch"] == [256, 256, 128]
    assert cfg["ppo"]["clip_range"] == 0.2 and cfg["ppo"]["gae_lambda"] == 0.95
    assert cfg["ppo"]["ent_coef"] == 0.01 and cfg["ppo"]["vf_coef"] == 0.5
    bad = tmp_path / "bad.toml"
    bad.write_text("[ppo]\nlerning_rate = 1.0\n")
    with pytest.raises(mmkit.Error, match="learning_rate"):
        load_rl_config(bad)


def test_t_interval_matches_known_quantiles():
    assert t_quantile_975(9) == pytest.approx(2.2622, abs=2e-4)
    assert t_quantile_975(29) == pytest.approx(2.0452, abs=2e-4)
    assert t_quantile_975(199) == pytest.approx(1.9720, abs=2e-4)
    s = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert s["mean"] == 2.5 and s["ci95_half"] == pytest.approx(3.1824 * np.std([1, 2, 3, 4], ddof=1) / 2, rel=1e-4)


def test_training_starts_from_the_classic_action():
    from mmkit.rl.training import build_ppo, load_rl_config
    env = SB3VecMarketEnv("model", 2, MODEL, seed=0)
    model = build_ppo(env, load_rl_config(None), seed=0, device="cpu", tb_dir=None)
    a, _ = model.predict(env.reset(), deterministic=True)
    np.testing.assert_allclose(a, [[1.0, 1.0, 0.0]] * 2, atol=0.05)


# --- export: SB3 predict == NumPy reference == C++ evaluation ---------------------------------------

@pytest.fixture(scope="module")
def small_model():
    from stable_baselines3 import PPO
    import torch
    # The synthetic market: its observation (order-book features) is what the C++ policy reader accepts.
    env = SB3VecMarketEnv("synthetic", 4, SYNTH, seed=0)
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu",
                policy_kwargs={"net_arch": {"pi": [256, 256, 128], "vf": [256, 256, 128]},
                               "activation_fn": torch.nn.Tanh})
    model.learn(256)
    return model, env


def test_exported_policy_gives_the_sb3_deterministic_action(small_model, tmp_path):
    model, env = small_model
    doc = rl.export_policy(model, tmp_path / "policy.json", env)
    assert doc["format"] == "mmkit-mlp-v1" and [len(l["bias"]) for l in doc["layers"]] == [256, 256, 128, 3]
    assert doc["obs_names"] == env.obs_names
    loaded = rl.load_policy(tmp_path / "policy.json")
    obs = _observations(env, 200)
    sb3, _ = model.predict(obs, deterministic=True)
    np.testing.assert_allclose(rl.mlp_act(loaded, obs), sb3, rtol=0, atol=1e-5)  # float32 torch vs float64


def test_exported_policy_evaluated_in_cpp_matches_sb3_predict(small_model, tmp_path):
    from mmkit import _core
    if not hasattr(_core, "rl_policy_act"):
        pytest.fail("mmkit._core.rl_policy_act (C++ evaluation of policy.json) is missing")
    model, env = small_model
    rl.export_policy(model, tmp_path / "policy.json", env)
    obs = _observations(env, 200)
    sb3, _ = model.predict(obs, deterministic=True)
    cpp = np.asarray(_core.rl_policy_act(str(tmp_path / "policy.json"), np.ascontiguousarray(obs, np.float32)))
    # Both run float32 matrix products (Eigen / torch) on the same weights (written with 17
    # significant digits): only summation order differs; measured max difference 6e-9.
    np.testing.assert_allclose(cpp, sb3, rtol=0, atol=1e-5)


def _observations(env, n):
    """Observations actually visited (random actions), plus clipping-range stress rows."""
    rng = np.random.default_rng(3)
    out = [env.reset()]
    while sum(len(o) for o in out) < n:
        out.append(env.step(np.array([env.action_space.sample() for _ in range(env.num_envs)]))[0])
    obs = np.concatenate(out)[:n].astype(np.float32)
    obs[-10:] = rng.normal(0, 3, (10, obs.shape[1])).astype(np.float32)  # far from data: exercises the clip
    return obs


# --- the whole pipeline: train -> export -> evaluate -> C++ backtest ---------------------------------

def test_pipeline_model_market_train_export_evaluate_with_gap_to_optimal(tmp_path):
    from typer.testing import CliRunner
    from mmkit.cli import app
    cfg = tmp_path / "rl.toml"
    cfg.write_text(
        "[env]\nnum_envs = 8\n[env.model]\nepisode_steps = 32\n"
        "[ppo]\nn_steps = 64\nbatch_size = 256\nn_epochs = 2\n"
        "[train]\ncheckpoint_steps = 1024\n"
        "[curriculum]\nphases = [{regime = \"low\", steps = 1024}, {regime = \"switching\", fraction = 0.5}]\n"
        "[evaluate]\nepisodes = 8\n")
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["rl", "train", "--env", "model", "--steps", "2048", "--out", str(out),
                                 "--config", str(cfg), "--seed", "3", "--device", "cpu"])
    assert r.exit_code == 0, r.output + repr(r.exception)
    for f in ("model.zip", "policy.json", "train_info.json"):
        assert (out / f).is_file(), f
    assert any((out / "checkpoints").glob("ppo_*_steps.zip"))
    assert any((out / "tb").rglob("events.out.tfevents.*"))
    info = json.loads((out / "train_info.json").read_text())
    assert info["steps"] >= 2048 and info["env_steps_per_s"] > 0 and info["final_mean_episode_reward"] is not None
    assert [c["regime"] for c in info["curriculum"]] == ["low", "switching"]
    assert info["curriculum"][1]["env_step"] >= 1024

    ev = tmp_path / "eval"
    r = CliRunner().invoke(app, ["rl", "evaluate", str(out), "--episodes", "8", "--seeds", "100", "--seeds", "101",
                                 "--out", str(ev)])
    assert r.exit_code == 0, r.output + repr(r.exception)
    res = json.loads((ev / "evaluation.json").read_text())
    assert set(res["strategies"]) == {"rl-policy", "avellaneda-stoikov", "glft", "spread-quoter", "optimal"}
    for s in res["strategies"].values():
        assert s["pnl"]["n"] == 16 and s["pnl"]["ci95"][0] <= s["pnl"]["mean"] <= s["pnl"]["ci95"][1]
    # On the model market "optimal" is the exact DP optimum of the env's reward, not the A-S quote:
    # on the same seeds its episodes differ from A-S's and its mean reward is not below A-S's by
    # more than the noise of 16 episodes.
    assert res["episodes"]["optimal"]["pnl"] != res["episodes"]["avellaneda-stoikov"]["pnl"]
    opt_mean = float(np.mean(res["episodes"]["optimal"]["reward"]))
    as_r = np.array(res["episodes"]["avellaneda-stoikov"]["reward"])
    assert opt_mean >= float(np.mean(as_r)) - 3 * float(np.std(as_r)) / np.sqrt(len(as_r))
    g = res["gap_to_optimal"]["reward"]["mean"]
    opt_r = np.array(res["episodes"]["optimal"]["reward"])
    pol_r = np.array(res["episodes"]["rl-policy"]["reward"])
    assert g == pytest.approx(float(np.mean(opt_r - pol_r)))
    assert (ev / "evaluation.html").is_file()
    with pytest.raises(mmkit.Error, match="kind it was trained on"):
        rl.evaluate(out, kind="synthetic", episodes=2)


def _train_synthetic(tmp_path):
    from typer.testing import CliRunner
    from mmkit.cli import app
    cfg = tmp_path / "rl_synth.toml"
    cfg.write_text(
        "[env]\nnum_envs = 4\n[env.synthetic]\nepisode_steps = 64\n"
        "[ppo]\nn_steps = 128\nbatch_size = 256\nn_epochs = 1\n"
        "[curriculum]\nenabled = false\n")
    out = tmp_path / "synth"
    r = CliRunner().invoke(app, ["rl", "train", "--env", "synthetic", "--steps", "1024", "--out", str(out),
                                 "--config", str(cfg), "--seed", "5", "--device", "cpu"])
    assert r.exit_code == 0, r.output + repr(r.exception)
    return out, cfg


def test_pipeline_synthetic_market_policy_runs_in_the_cpp_backtester(tmp_path):
    from typer.testing import CliRunner
    from mmkit.cli import app
    out, cfg = _train_synthetic(tmp_path)
    ev = tmp_path / "eval"
    r = CliRunner().invoke(app, ["rl", "evaluate", str(out), "--episodes", "4", "--out", str(ev)])
    assert r.exit_code == 0, r.output + repr(r.exception)
    res = json.loads((ev / "evaluation.json").read_text())
    assert set(res["strategies"]) == {"rl-policy", "avellaneda-stoikov", "glft", "spread-quoter"}
    assert "gap_to_optimal" not in res
    # The exported weights inside the C++ backtester, on the synthetic order-book market.
    bt = mmkit.backtest(strategy="rl-policy", params={"policy": str(out / "policy.json")},
                        synthetic={"duration_s": 120}, engine={"seed": 1})
    assert bt.config["strategy"]["name"] == "rl-policy"
    assert bt.run_info["events"] > 0
    assert np.isfinite(bt.metrics["total_pnl"])


def test_policy_backtest_on_a_real_data_slice_through_the_cli(tmp_path, data_dir):
    import subprocess
    import sys
    out, _ = _train_synthetic(tmp_path)
    conf = tmp_path / "rl_policy.toml"
    conf.write_text(f'[strategy]\nname = "rl-policy"\npolicy = "{out / "policy.json"}"\n')
    run = tmp_path / "bt"
    p = subprocess.run([sys.executable, "-m", "mmkit.cli", "backtest", str(data_dir / REPLAY_FILE),
                        "--strategy", "rl-policy", "--config", str(conf), "--out", str(run)],
                       capture_output=True, text=True, env=os.environ.copy(), timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    m = json.loads((run / "metrics.json").read_text())
    assert m["events"] > 0


def test_evaluation_gives_each_classic_base_only_the_params_it_accepts():
    from mmkit.rl.evaluation import for_base
    mc = {"base": "avellaneda-stoikov", "strategy.sigma_half_life_s": 2.0, "strategy.order_qty": 1.0,
          "episode_steps": 100}
    assert for_base(mc, "avellaneda-stoikov") == mc
    g = for_base(mc, "glft")
    assert g == {"base": "glft", "strategy.order_qty": 1.0, "episode_steps": 100}
    # The GLFT row builds: the A-S-only key would be refused by the C++ strategy.
    env = mmkit._core.VecMarketEnv("synthetic", 1, {**g, "episode_steps": 5}, 1)
    assert env.base == "glft"
    with pytest.raises(mmkit.Error, match="sigma_half_life_s"):
        mmkit._core.VecMarketEnv("synthetic", 1, {**mc, "base": "glft", "episode_steps": 5}, 1)
