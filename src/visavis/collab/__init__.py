"""Collaboration in the consultation room: documents shared into a conversation
(uploads, the library, snapshots), presented on a shared stage and annotated, a
shared video, and the signed access tokens the browser's GETs carry.

Every logged step is an event appended inside `ConversationService.write()`; the
bytes live in the content-addressed `FileStore`, checked by `documents.checks`
before anything is stored."""
