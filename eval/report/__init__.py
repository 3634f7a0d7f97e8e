"""What the evaluators show besides numbers: text tables (`tables`), figures (`plots`) and the
`--report` page (`html`)."""
