"""Questions asked of an :class:`~cnncalc.engine.Analysis`, answered as plain records.

Each module takes analyses and returns frozen data; none of them prints or formats. The reports
(:mod:`cnncalc.report`) and the terminal UI render what these return.

- :mod:`.breakdown`: totals per layer category (``conv2d 1x1``, ``batch_norm2d``, ...);
- :mod:`.groups`: subtotals of every block instance and dotted name prefix (``layer1``,
  ``layer1.0``), for reports at a chosen depth;
- :mod:`.memory`: bytes of the input, parameters and activations at a data type;
- :mod:`.compare`: several designs against a baseline, with exact ratios;
- :mod:`.receptive`: every layer's receptive field per axis (size, jump, effective padding);
- :mod:`.bounds`: each symbol's smallest and largest valid value, and exact downsampling;
- :mod:`.inverse`: the sizes giving an output shape; the largest size within a budget;
- :mod:`.sweep`: totals over a grid of symbol values, from formulas compiled by :mod:`.exact`;
- :mod:`.lifetimes`: the inference peak of activation memory;
- :mod:`.training`: the memory and FLOPs of a training step;
- :mod:`.conventions`: other tools' counting rules;
- :mod:`.budget`: totals against limits, at sizes or proved over ranges of them.

Import from the modules themselves (``from cnncalc.analysis.groups import groups``): the package
re-exports nothing, so a module and its main function may share a name.
"""
