"""The commands of ``xl-aiindex``, one module each, as library calls: each function takes
paths and options, does the whole job (read, compute, build the tables, write through the one
write path, :mod:`xl_aiindex.workbook.writer`) and returns a small frozen dataclass holding
what the command line prints. Nothing here prints or knows about click.

Import them from :mod:`xl_aiindex.api` (``from xl_aiindex.api import recalc``); the command
line (:mod:`xl_aiindex.cli`) and the batch runner (:mod:`xl_aiindex.batch`) call the same
functions. Each module imports pandas and the workbook layer only when its function runs, so
importing the API stays cheap.
"""
