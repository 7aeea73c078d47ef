"""Documents <-> models: the only package that knows YAML.

The strict reader and canonical writer, the four file kinds, the folder convention (which file
is which, in one place) and the service catalog the palette and importers read.
"""
