"""The engine must work where Qt and torch are absent (headless servers, the CLI)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import restorer_app

ENGINE = Path(restorer_app.__file__).parent / "engine"

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] in ('PySide6', 'shiboken6', 'torch', 'models'):
                raise ImportError(f'{name} is blocked in this test')
    sys.meta_path.insert(0, Block())
    """
)


def test_engine_and_cli_import_and_fill_without_qt_or_torch():
    code = BLOCKER + textwrap.dedent(
        """
        import pkgutil, importlib, numpy as np
        import restorer_app.engine as engine
        for info in pkgutil.iter_modules(engine.__path__):
            importlib.import_module(f'restorer_app.engine.{info.name}')
        import restorer_app.cli
        from restorer_app.engine.pipeline import Inpainter, InpaintRequest
        from restorer_app.engine.imageio import RasterImage, ImageInfo
        from restorer_app.engine.registry import ModelRegistry
        image = RasterImage(np.full((20, 20, 3), 9, np.uint8), ImageInfo('PNG', 8))
        mask = np.zeros((20, 20), np.uint8); mask[5:8, 5:8] = 255
        result = Inpainter(ModelRegistry([])).inpaint(image, mask, InpaintRequest(method='telea'))
        assert result.changed_pixels == 9
        assert not any(m.split('.')[0] in ('PySide6', 'torch') for m in sys.modules)
        print('ok')
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_engine_sources_name_no_forbidden_import():
    for source in ENGINE.glob("*.py"):
        for line in source.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")):
                top = stripped.split()[1].split(".")[0]
                assert top not in ("PySide6", "torch", "models"), f"{source.name}: {stripped}"
                assert not stripped.startswith(("from ..gui", "from restorer_app.gui")), f"{source.name}: {stripped}"
