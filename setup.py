"""Build step that ships srcgrad's own emitted gradients (the zoo's losses, committed
under generated/srcgrad.*) inside the package as srcgrad/_generated, where
srcgrad.shipped finds them: an installed srcgrad reads them there and never writes into
the current directory.
Everything else is in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithGenerated(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's generated/
            return
        target = Path(self.build_lib) / "srcgrad" / "_generated"
        for src in sorted((ROOT / "generated").glob("srcgrad.*/*.py")):
            dest = target / src.parent.name / src.name
            self.mkpath(str(dest.parent))
            self.copy_file(str(src), str(dest))


setup(cmdclass={"build_py": BuildPyWithGenerated})
