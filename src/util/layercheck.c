/* Empty translation unit for the per-layer --no-undefined link check (see CMakeLists.txt). */
int otad_layercheck_anchor;
