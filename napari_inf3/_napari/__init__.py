"""The napari plugin: a thin Qt layer over the engine (readers, sample data, three docks).

Nothing here computes fusion maths; it calls :mod:`napari_inf3`. torch is imported only
when a dock runs a model, so opening napari stays fast.
"""
