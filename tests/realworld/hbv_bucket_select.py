"""A conceptual rainfall-runoff model in the HBV style, vectorised over sub-catchments:
snow accumulation and melt with `np.where` on a temperature threshold, melt limited by
`np.clip(..., 0.0, snow)` whose upper bound is the state itself, soil moisture recharge
with a power law, runoff regimes chosen by `np.select`, two linear reservoirs, and a
Nash-Sutcliffe loss on the summed discharge."""

import numpy as np

import srcgrad

TT = 0.0


def hbv_step(state, precip, temp, p):
    snow, soil, upper, lower = state
    snow = snow + np.where(temp < TT, precip, 0.0)
    rain = np.where(temp >= TT, precip, 0.0)
    melt = np.clip(p["cfmax"] * (temp - TT), 0.0, snow)
    snow = snow - melt
    water = rain + melt
    recharge = water * np.clip(soil / p["fc"], 0.0, 1.0) ** p["beta"]
    soil = soil + water - recharge
    et = p["pet"] * np.minimum(soil / (0.7 * p["fc"]), 1.0)
    soil = np.maximum(soil - et, 0.0)
    upper = upper + recharge
    quick = np.select([upper > 8.0, upper > 2.0], [p["k0"] * (upper - 8.0) + p["k1"] * upper,
                                                  p["k1"] * upper], default=0.5 * p["k1"] * upper)
    perc = np.minimum(upper - quick, p["perc"])
    upper = upper - quick - perc
    lower = lower + perc
    slow = p["k2"] * lower
    lower = lower - slow
    return (snow, soil, upper, lower), quick + slow


def nse_loss(p, precip, temp, q_obs, areas):
    n = areas.shape[0]
    state = (np.zeros(n), np.full(n, 50.0), np.full(n, 4.0), np.full(n, 10.0))
    q_sim = []
    for P_t, T_t in zip(precip, temp):
        state, q = hbv_step(state, P_t, T_t, p)
        q_sim.append(np.sum(q * areas))
    q_sim = np.array(q_sim)
    return np.sum((q_sim - q_obs) ** 2) / np.sum((q_obs - q_obs.mean()) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    days, n = 12, 3
    precip = rs.gamma(0.8, 6.0, size=(days, n))
    temp = 3.0 * rs.randn(days, n) + np.linspace(-3.0, 5.0, days)[:, None] + 0.137
    p = {"cfmax": 3.1, "fc": 180.0, "beta": 2.2, "pet": 1.3, "k0": 0.25,
         "k1": 0.12, "k2": 0.04, "perc": 1.6}
    return p, precip, temp, 3.0 + rs.rand(days), np.array([0.5, 0.3, 0.2])


if __name__ == "__main__":
    p, precip, temp, q_obs, areas = make_inputs(0)
    g = srcgrad.grad(nse_loss)(p, precip, temp, q_obs, areas)
