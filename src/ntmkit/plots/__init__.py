"""Pictures of NTMs and their training runs, one module per figure.

    dashboard       one sequence: input, target, prediction, weightings, memory (`save_dashboard`)
    curves          loss and bit errors against sequences seen (`save_learning_curves`)
    generalisation  errors against the swept length/items/repeats (`save_generalisation`)
    animation       a GIF of memory and weightings step by step (`save_animation`)
    paper_curves    a run's evaluation cost next to the paper's learning curves
                    (`save_paper_comparison`, `paper_figure`)
    report          one self-contained HTML page per run (`write_report`)
    run_figures     the pictures of a run folder under fixed names (`write_run_figures`)

Every figure is a `matplotlib.figure.Figure` on the Agg canvas (no pyplot, no display needed);
``save_*`` functions pick PNG, SVG or PDF from the file extension.
"""

from .animation import animation_frames, save_animation
from .common import SampleTrace, save_figure, trace_sample
from .curves import learning_curves_figure, save_learning_curves
from .dashboard import dashboard_figure, sample_figure, save_dashboard
from .generalisation import generalisation_figure, save_generalisation, training_range
from .paper_curves import PaperFigure, paper_comparison_figure, paper_figure, save_paper_comparison
from .report import write_report
from .run_figures import (
    dashboard_path,
    write_animation,
    write_dashboard,
    write_generalisation,
    write_learning_curves,
    write_run_figures,
)

__all__ = [
    "PaperFigure",
    "SampleTrace",
    "animation_frames",
    "dashboard_figure",
    "dashboard_path",
    "generalisation_figure",
    "learning_curves_figure",
    "paper_comparison_figure",
    "paper_figure",
    "sample_figure",
    "save_animation",
    "save_dashboard",
    "save_figure",
    "save_generalisation",
    "save_learning_curves",
    "save_paper_comparison",
    "trace_sample",
    "training_range",
    "write_animation",
    "write_dashboard",
    "write_generalisation",
    "write_learning_curves",
    "write_paper_comparison",
    "write_report",
    "write_run_figures",
]
