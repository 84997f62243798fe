"""Documents: upload checks (PDF, images, videos by content) and page images (PDFium).

Pure: no database, no web framework, no settings (limits are handed in).
"""
