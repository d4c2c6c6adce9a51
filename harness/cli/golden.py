"""`harness golden check|update|texts`."""

from __future__ import annotations

import argparse

from harness.cli.output import say_unavailable


def cmd_golden(args: argparse.Namespace) -> int:
    from harness.check import divergences, golden
    from harness.core import bundle
    from harness.core.cases import read_cases
    from harness.run.engines import Engines
    from runtimes import tokenizers
    from runtimes.selection import select

    selection = select(args.runtimes, strict=True, with_reference=True) if args.action == "check" else None
    b = bundle.load(args.bundle)
    tokenizer_ids, _ = tokenizers.select(args.tokenizers, b)
    if args.action == "texts":
        from harness.check.golden_texts import build

        print(f"{golden.TEXTS}: {build(b)} cases; now run `harness golden update`")
        return 0
    if args.action == "update":
        meta = golden.update(b)
        print(f"{golden.expected_path(b)}: {meta['cases']} cases for bundle {meta['bundle_hash'][:12]}")
        return 0
    assert selection is not None
    expected = golden.load_current(b)
    cases = read_cases(golden.TEXTS)  # module attributes, so tests can point them elsewhere
    say_unavailable("golden", selection.unavailable)
    with Engines(b, selection.runtimes, tokenizer_ids) as engines:
        result = golden.check(b, engines, cases, expected=expected, known=divergences.load())
    for f in result.findings:
        tag = f"declared ({f.declared})" if f.declared else "FAIL"
        print(f"{tag}: {f.kind} {f.runtime} case {f.case_id}: {f.detail}")
    for d in result.unused_divergences:
        print(f"FAIL: declared divergence {d} no longer occurs; remove it from golden/known_divergences.toml")
    for rid in [*selection.ids, *tokenizer_ids]:
        if rid in result.errors:
            print(f"{rid:<20} ERROR {result.errors[rid].line()}")
        elif rid in result.comparisons:
            cmp = result.comparisons[rid]
            verdict = "pass" if cmp.passed else "FAIL"
            print(f"{rid:<20} {verdict}  max|diff| {cmp.max_abs_diff:.2e}  agreement {cmp.agreement:.4f}")
    problems = [f"{len(result.undeclared)} undeclared divergences"] if result.undeclared else []
    problems += [f"{len(result.errors)} runtime(s) could not run"] if result.errors else []
    verdict = "pass" if result.passed else f"FAIL ({', '.join(problems) or 'declared divergences no longer occur'})"
    print(f"golden check: {result.cases} cases, tokenizers {','.join(tokenizer_ids)}: {verdict}")
    return 0 if result.passed else 1
