"""Schedules and the lr finder by value, on the paths a default run never takes (issue 20 §7: the survivors of
`make mutate` in `schedule`): zero-width phases, the bounds of pct_start, the finder's smoothed loss and its stop
rule, and the valley rule's threshold. Every expected number is worked out by hand in the comment beside it."""
import pytest
import torch
from sgdlab import CancelFitException, combine_scheds, one_cycle, sched_exp, sched_lin, sched_no
from sgdlab.schedule import LRFinder, _centred_mean, valley


def test_a_zero_width_phase_at_the_end_hands_over_to_the_phase_before():
    # starts [0, 0.5, 1]: pos 1 falls in the empty third phase, so the second one ends the schedule: lin(5, 6)(1) = 6
    f = combine_scheds([0.5, 0.5, 0.], [sched_lin(0., 1.), sched_lin(5., 6.), sched_no(9., 9.)])
    assert f(1.) == 6. and f(0.75) == 5.5 and f(0.25) == 0.5


def test_two_zero_width_phases_hand_over_to_the_first():
    # starts [0, 1, 1]: pos 1 skips both empty phases back to the first: lin(0, 1)(1) = 1
    f = combine_scheds([1., 0., 0.], [sched_lin(0., 1.), sched_no(8., 8.), sched_no(9., 9.)])
    assert f(1.) == 1. and f(0.5) == 0.5


@pytest.mark.parametrize('pcts', [[1.5, -0.5], ['a', 1.], [True, 0.]])
def test_combine_scheds_refuses_pcts_that_are_not_fractions(pcts):
    with pytest.raises(ValueError, match='must be fractions >= 0'):
        combine_scheds(pcts, [sched_no(1., 1.)] * 2)


def test_one_cycle_pct_start_bounds():
    one_cycle(0.1, pct_start=0.)                                     # [0, 1): no warm-up at all is allowed
    for bad in (1., 'a', True, -0.1):
        with pytest.raises(ValueError, match='pct_start'): one_cycle(0.1, pct_start=bad)


@pytest.mark.parametrize('end', [0., -1.])
def test_sched_exp_needs_a_positive_end(end):
    with pytest.raises(ValueError, match='sched_exp: end='): sched_exp(1., end)


def test_lr_finder_needs_a_growing_sweep():
    with pytest.raises(ValueError, match='end_lr=0.1 must be above start_lr=0.1'): LRFinder(start_lr=0.1, end_lr=0.1)


class _Learn:
    "Just what LRFinder.after_loss reads: the loss and the position in training"
    pos = 0.


def _feed(finder: LRFinder, losses) -> int:
    "Give the finder `losses` one step at a time; the number it took before it cancelled the fit (or all of them)"
    finder.lrs, finder.losses, finder.avg, finder.best = [], [], 0., float('inf')
    learn = _Learn()
    for i, l in enumerate(losses):
        learn.loss = torch.tensor(l)
        try: finder.after_loss(learn)
        except CancelFitException: return i + 1
    return len(losses)


def test_lr_finder_smoothed_loss_and_its_stop_rule():
    # beta 0.8, bias-corrected: four losses of 1 smooth to exactly 1 (the best). Then 9.4: avg = 0.8*0.5904 + 0.2*9.4
    # = 2.35232, smoothed 2.35232/(1 - 0.8**5) = 3.4988 < 4: go on. Then 7.2: avg = 0.8*2.35232 + 1.44 = 3.321856,
    # smoothed 3.321856/(1 - 0.8**6) = 4.5020 > 4 * best: stop at the 6th loss (at 3x best it stops a step early,
    # at 5x one later, with no bias correction or a wrong weight it never does)
    f = LRFinder()
    assert _feed(f, [1., 1., 1., 1., 9.4, 7.2, 1.]) == 6
    assert f.best == pytest.approx(1.) and f.avg == pytest.approx(3.321856)
    assert _feed(LRFinder(stop_div=False), [1., 1., 1., 1., 9.4, 7.2, 1.]) == 7


def test_centred_mean_by_hand():
    assert _centred_mean([1., 2., 3., 4., 5.], 1) == [1.5, 2., 3., 4., 4.5]
    assert _centred_mean([1., 2., 3., 4., 5.], 2) == [2., 2.5, 3., 3.5, 4.]


def test_valley_threshold_by_hand():
    # k=0: no smoothing. Minimum 1 at index 7; the drop is 10 - 1 = 9, so the descent starts at the last point before
    # index 7 still within a tenth of the drop of the start (>= 9.1): index 2 (9.2). Half-way: (2 + 7) // 2 = 4.
    losses = [10., 8., 9.2, 7., 6., 4., 2., 1., 3., 20.]
    lrs = [10. ** (i - 5) for i in range(10)]
    assert valley(lrs, losses, k=0) == lrs[4]
    assert valley(lrs[:5], [5., 4., 3., 2., 1.], k=0) == lrs[2]    # five losses are enough: (0 + 4) // 2 = 2
    with pytest.raises(ValueError, match='only 4 losses'): valley(lrs[:4], [4., 3., 2., 1.], k=0)


def test_valley_takes_any_positive_drop_and_its_threshold_exactly():
    lrs = [10. ** (i - 5) for i in range(10)]
    # a drop of 0.4, below 1: still a valley; (0 + 4) // 2 = 2
    assert valley(lrs[:5], [1.0, 0.9, 0.8, 0.7, 0.6], k=0) == lrs[2]
    # drop 10, threshold 11 - 10/10 = 10 exactly: index 2 (10.0) counts as still at the start, so (2 + 5) // 2 = 3
    assert valley(lrs, [11., 6., 10., 5., 3., 1., 2., 2., 2., 2.], k=0) == lrs[3]
    # drop 9, threshold 9.1: index 2 (9.15) is in, index 3 (9.05) is out: (2 + 7) // 2 = 4 (a tenth is a tenth: with
    # drop/11 the threshold 9.18 drops index 2, with drop/9 the threshold 9.0 takes index 3)
    assert valley(lrs, [10., 8., 9.15, 9.05, 6., 4., 2., 1., 3., 20.], k=0) == lrs[4]


def test_lr_find_needs_five_steps():
    from torch import nn
    from sgdlab import linear_data, lr_find
    x, y = linear_data(20, seed=0)
    a = nn.Parameter(torch.tensor([-1., 1.]))
    with pytest.raises(ValueError, match='num_it=4'): lr_find(lambda xb: xb@a, x, y, params=[a], num_it=4)
    with pytest.raises(ValueError, match='num_it=7.5'): lr_find(lambda xb: xb@a, x, y, params=[a], num_it=7.5)
    assert len(lr_find(lambda xb: xb@a, x, y, params=[a], num_it=5, start_lr=1e-3, end_lr=1.).losses) == 5


def test_lr_find_plot_draws_the_sweep():
    "The sweep on a log axis, the suggestion marked, the y range from 5% below the lowest loss to 20% above the top"
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from sgdlab.schedule import LRFind
    r = LRFind(lrs=[1e-3, 1e-2, 1e-1, 1., 10.], losses=[3., 2., 4., 1., 5.], suggestion=1e-2, stopped=False)
    ax = r.plot()
    line, mark = ax.lines
    assert list(line.get_xdata()) == r.lrs and list(line.get_ydata()) == r.losses and ax.get_xscale() == 'log'
    assert list(mark.get_xdata()) == [1e-2] and list(mark.get_ydata()) == [2.]
    # the lowest loss is 1, the highest before it 4 (just before it): from 1 - 0.05*3 = 0.85 to 4 + 0.2*3 = 4.6
    assert ax.get_ylim() == pytest.approx((0.85, 4.6))
    assert ax.get_xlabel() == 'learning rate (log scale)' and ax.get_ylabel() == 'loss'
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['valley: lr=0.01']
    assert tuple(ax.figure.get_size_inches()) == (5., 3.)
    plt.close(ax.figure)
