"""Readers and writers: local paths and fsspec URIs (s3://, gs://) through the same code."""
