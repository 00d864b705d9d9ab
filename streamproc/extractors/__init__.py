"""Extractors find private values in turns. All of them implement `base.Extractor`."""
