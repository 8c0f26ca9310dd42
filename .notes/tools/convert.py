"""Convert a jupytext percent file into an nbgrader source notebook: python3 kernelspec, no jupytext metadata."""
import subprocess, sys, json
src, dst = sys.argv[1], sys.argv[2]
subprocess.run(["/work/main/.venv/bin/jupytext", "--quiet", "--to", "ipynb", src, "-o", dst], check=True)
nb = json.load(open(dst))
nb["metadata"] = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                  "language_info": {"name": "python"}}
for cell in nb["cells"]:
    cell.pop("id", None) if False else None
json.dump(nb, open(dst, "w"), indent=1, ensure_ascii=False)
open(dst, "a").write("\n")
