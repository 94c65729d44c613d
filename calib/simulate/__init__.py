"""Monte Carlo simulation of next year's grades and payouts."""

from calib.simulate.monte_carlo import Simulation, simulate

__all__ = ["Simulation", "simulate"]
