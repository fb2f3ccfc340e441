#!/usr/bin/env python3
"""Writes every ```cpp block of the given Markdown files to OUT_DIR as its
own translation unit (<doc-stem>_<n>.cpp) and prints one path per line.
Blocks fenced as ```c++ are illustrations (fragments, or wrong on purpose)
and are skipped; ```cpp blocks must be complete programs."""
import pathlib
import sys


def main() -> int:
    out_dir = pathlib.Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for doc in sys.argv[2:]:
        path = pathlib.Path(doc)
        lines = path.read_text(encoding="utf-8").splitlines()
        block, start, count = None, 0, 0
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            if block is None and stripped == "```cpp":
                block, start = [], number
            elif block is not None and stripped == "```":
                count += 1
                target = out_dir / f"{path.stem}_{count}.cpp"
                text = f'#line {start + 1} "{path.as_posix()}"\n' + "\n".join(block) + "\n"
                if not target.exists() or target.read_text(encoding="utf-8") != text:
                    target.write_text(text, encoding="utf-8")
                written.append(target.as_posix())
                block = None
            elif block is not None:
                block.append(line)
        if block is not None:
            print(f"{doc}:{start}: unterminated code block", file=sys.stderr)
            return 1
    print("\n".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
