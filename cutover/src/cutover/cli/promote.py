"""`cutover promote METHOD PATH --steps 1,5,25,50,100 --interval 60s --reason TEXT`: walk a
route's canary up while its evidence holds, back to legacy when it fails; `--status`,
`--cancel`, and `--wait` to drive and follow it from here."""

from __future__ import annotations

import argparse
import os
import socket
import time
from typing import TYPE_CHECKING

from cutover.cli.common import (
    CommandError,
    SubParsers,
    default_actor,
    format_rows,
    open_store,
    print_json,
    short_time,
    state_options,
)
from cutover.control.modes import route_id
from cutover.control.promotion import (
    DEFAULT_INTERVAL,
    DEFAULT_STEPS,
    Promotion,
    State,
    Thresholds,
    parse_duration,
    parse_steps,
    promotion_document,
    steps_text,
)

if TYPE_CHECKING:
    from cutover.control.store import StateStore

USAGE = (
    "cutover promote METHOD PATH [--steps 1,5,25,50,100] [--interval 60s] --reason TEXT\n"
    "           [--max-error-rate-increase F] [--max-p99-ratio F] [--max-mismatch-rate F]\n"
    "           [--min-samples N] [--actor NAME] [--wait]\n"
    "       cutover promote METHOD PATH --cancel --reason TEXT\n"
    "       cutover promote --status"
)
STATUS_COLUMNS = ("ROUTE", "STATE", "STEP", "MODE", "UPDATED", "LEADER", "MESSAGE")


def register(commands: SubParsers) -> None:
    defaults = Thresholds()
    parser = commands.add_parser(
        "promote",
        parents=[state_options()],
        usage=USAGE,
        help="walk a route's canary up on evidence, braking back to legacy",
        description=(
            "Walk a route's canary up the steps, one step per interval, while the new side's "
            "error rate and p99 are no worse than legacy's over the step (and its shadow "
            "mismatch rate is low, where it was compared); too few samples hold the step; a "
            "failed gate switches the route to legacy at once. Every gateway process drives "
            "it, one at a time (a lease)."
        ),
    )
    parser.add_argument("method", nargs="?", metavar="METHOD")
    parser.add_argument("path", nargs="?", metavar="PATH", help="the path template")
    parser.add_argument("--steps", default=steps_text(DEFAULT_STEPS), help="canary percentages")
    parser.add_argument("--interval", default=f"{DEFAULT_INTERVAL:g}s", help="time per step")
    parser.add_argument(
        "--max-error-rate-increase",
        type=float,
        default=defaults.max_error_rate_increase,
        metavar="F",
        help="new's 5xx rate minus legacy's, a fraction (default %(default)s)",
    )
    parser.add_argument(
        "--max-p99-ratio",
        type=float,
        default=defaults.max_p99_ratio,
        metavar="F",
        help="new's p99 over legacy's (default %(default)s)",
    )
    parser.add_argument(
        "--max-mismatch-rate",
        type=float,
        default=defaults.max_mismatch_rate,
        metavar="F",
        help="shadow mismatches over comparisons, where shadowed (default %(default)s)",
    )
    parser.add_argument(
        "--min-samples",
        type=int,
        default=defaults.min_samples,
        metavar="N",
        help="answers a verdict needs on each side (default %(default)s)",
    )
    parser.add_argument("--reason", metavar="TEXT", help="why (audited)")
    parser.add_argument("--actor", metavar="NAME", help="who (default: user@host)")
    parser.add_argument("--status", action="store_true", help="every promotion and its state")
    parser.add_argument("--cancel", action="store_true", help="stop the route's promotion")
    parser.add_argument("--wait", action="store_true", help="drive and follow it until it ends")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cutover.control.promote import Promotions

    positional = [value for value in (args.method, args.path) if value is not None]
    if args.status:
        if positional or args.cancel or args.wait:
            raise CommandError("--status takes no METHOD PATH, --cancel or --wait")
        with open_store(args) as store:
            promotions = Promotions(store).all()
        if args.json:
            print_json({"promotions": [promotion_document(one) for one in promotions]})
        else:
            print(format_status(promotions))
        return 0
    if len(positional) != 2:
        raise CommandError("promote needs METHOD PATH (or --status)")
    route = route_id(args.method, args.path)
    actor = args.actor if args.actor is not None else default_actor()
    if args.cancel:
        if args.reason is None:
            raise CommandError("--cancel needs --reason TEXT (it goes into the promotion)")
        with open_store(args) as store:
            promotion = Promotions(store).cancel(route, actor=actor, reason=args.reason)
        _print(args, promotion)
        return 0
    if args.reason is None and not args.wait:
        raise CommandError("a promotion needs --reason TEXT (it goes into the history)")
    thresholds = Thresholds(
        max_error_rate_increase=args.max_error_rate_increase,
        max_p99_ratio=args.max_p99_ratio,
        max_mismatch_rate=args.max_mismatch_rate,
        min_samples=args.min_samples,
    )
    steps, interval = parse_steps(args.steps), parse_duration(args.interval)
    with open_store(args) as store:
        if args.reason is not None:  # else --wait follows the route's running promotion
            promotion = Promotions(store).start(
                route,
                steps=steps,
                interval=interval,
                thresholds=thresholds,
                actor=actor,
                reason=args.reason,
            )
            if args.json and not args.wait:
                print_json(promotion_document(promotion))
            elif not args.json:
                print(started(promotion), flush=True)
        if not args.wait:
            return 0
        return _wait(args, store, route)


def started(promotion: Promotion) -> str:
    """What `cutover promote` prints once the first step is switched."""
    t = promotion.thresholds
    return (
        f"{promotion.route}: promotion started, {promotion.message} (version "
        f"{promotion.version})\n"
        f"Steps {steps_text(promotion.steps)}% every {promotion.interval:g} s; gates per step, "
        f"new against legacy: error rate at most +{t.max_error_rate_increase * 100:g} pt, "
        f"p99 at most {t.max_p99_ratio:g}x, shadow mismatches at most "
        f"{t.max_mismatch_rate * 100:g}%, at least {t.min_samples} answers, else hold.\n"
        "Every gateway process drives it, one at a time; `cutover promote --status` follows it."
    )


def format_status(promotions: list[Promotion]) -> str:
    if not promotions:
        return "No promotions."
    rows = [
        (
            one.route,
            one.state.value,
            f"{one.step + 1}/{len(one.steps)}",
            str(one.mode),
            short_time(one.updated_at),
            one.leader or "-",
            one.message,
        )
        for one in promotions
    ]
    return format_rows(STATUS_COLUMNS, rows)


def _print(args: argparse.Namespace, promotion: Promotion) -> None:
    if args.json:
        print_json(promotion_document(promotion))
    else:
        print(f"{promotion.route}: {promotion.state}: {promotion.message}")


def _wait(args: argparse.Namespace, store: StateStore, route: str) -> int:
    """Drive (under the same lease as the gateways) and print each new message until the
    promotion ends: 0 once completed, 1 rolled back or cancelled."""
    from cutover.control.driver import DEFAULT_SETTLE, PromotionDriver
    from cutover.control.promote import Promotions

    driver = PromotionDriver(
        store, f"cli:{socket.gethostname()}:{os.getpid()}", settle=DEFAULT_SETTLE
    )
    promotions = Promotions(store)
    said = None
    while True:
        driver.tick()
        promotion = promotions.get(route)
        if promotion is None:
            raise CommandError(f"{route} has no promotion")
        if promotion.message != said and not args.json:
            said = promotion.message
            print(f"{short_time(promotion.updated_at)} {promotion.state}: {said}", flush=True)
        if not promotion.state.active:
            if args.json:
                print_json(promotion_document(promotion))
            return 0 if promotion.state is State.COMPLETED else 1
        time.sleep(min(1.0, max(promotion.interval / 4, 0.05)))
