"""A small AVA case as file texts, shared by the command-line and damaged-input tests: two
classes, three gt boxes on two frames, three predictions (one misses its box)."""

LABEL_MAP = 'item {\n  name: "stand"\n  id: 1\n}\nitem {\n  name: "sit"\n  id: 2\n}\n'
GT = "vidA,0902,0.1,0.1,0.5,0.9,1,0\nvidA,0902,0.1,0.1,0.5,0.9,2,0\nvidB,0903,0.2,0.2,0.6,0.6,1,1\n"
PRED = "vidA,0902,0.1,0.1,0.5,0.9,1,0.9\nvidB,0903,0.5,0.5,0.9,0.9,1,0.8\nvidA,0902,0.1,0.1,0.5,0.9,2,0.7\n"
