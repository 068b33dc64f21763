"""Emotion capture: webcam frames and oral answers -> AI server -> emotion samples.

One module per job:

- `checks`: what an upload must pass before anything is stored (attempt, question, time, size, type);
- `files`: the media files under MEDIA_DIR (through `services/media_store.py`);
- `store`: storing an upload with its rows (analysed, pending, kept as the answer only);
- `upload`: the flow of one upload;
- `samples`: AI server results -> emotion samples;
- `queue`: the analysis queue in the database (claim, apply, retry, give up);
- `worker`: the background worker and the capture runtime of the web app's lifespan;
- `retention`: the retention and orphan-file sweep.

Consent, the lawful-use mode, the frame rate and the queue share per attempt are in
`services/capture_rules.py`. Database work is synchronous (SQLModel sessions) and runs in worker threads.
"""
