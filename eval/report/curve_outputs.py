"""`--plot` and `--report` of an evaluation result kept with its curves (`keep_curves=True`)."""

from eval.report import html, plots


def write_curve_outputs(result, content_of, *, plot=None, plot_title="", report=None, settings=None):
    """Takes the precision-recall curves out of `result["per_class"]` (they are not part of
    `--json`), draws them to the file `plot` and writes the HTML report of `content_of(result)`
    (an evaluator's `report_content`) and `settings` into the folder `report`, printing its path;
    each output only where given."""
    curves = plots.pop_curves(result["per_class"])
    if plot:
        plots.plot_pr_curves(curves, plot, title=plot_title)
    if report:
        print(f"wrote {html.write_report(report, content_of(result), curves, settings)}")
