"""Stand-alone AVA frame-mAP and MultiSports frame-/video-mAP evaluators (numpy stack only)."""
