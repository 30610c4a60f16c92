"""The lab's small hand-written datasets (README.md here), shipped inside the package as
``labsupport.data`` and read with `labsupport.paths.data_file`. This folder holds no code."""
