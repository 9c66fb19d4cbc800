"""Images a user brings: a class folder with a truncated JPEG and a text file named .jpg.

Before, TensorFlow stopped with "InvalidArgumentError: Unknown image file format" and no file name.
Now every bad file is named with the reason, and ``bad_images="skip"`` reads the others.
"""

import io

import numpy as np
import pytest
from PIL import Image

from helpers import data, transfer


def _jpeg(colour, size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture
def user_folder(tmp_path):
    """cats/ and dogs/ with 3 good photos each, plus one truncated JPEG and one text file named .jpg."""
    root = tmp_path / "my_photos"
    for cls, colour in (("cats", (200, 30, 30)), ("dogs", (30, 30, 200))):
        (root / cls).mkdir(parents=True)
        for i in range(3):
            (root / cls / f"{cls}_{i}.jpg").write_bytes(_jpeg(colour))
    (root / "cats" / "cut_off.jpg").write_bytes(_jpeg((0, 255, 0), size=(64, 64))[:300])
    (root / "dogs" / "notes.jpg").write_text("shopping list: dog food\n")
    (root / "dogs" / "README.txt").write_text("Keras ignores other endings, and so does the check")
    return root


def test_find_bad_images_names_each_file_and_why(user_folder):
    bad = dict(data.find_bad_images(user_folder))
    assert set(bad) == {user_folder / "cats" / "cut_off.jpg", user_folder / "dogs" / "notes.jpg"}
    assert "truncated JPEG" in bad[user_folder / "cats" / "cut_off.jpg"]
    assert "text file" in bad[user_folder / "dogs" / "notes.jpg"]


def test_good_folder_has_no_bad_images(user_folder):
    (user_folder / "cats" / "cut_off.jpg").unlink()
    (user_folder / "dogs" / "notes.jpg").unlink()
    assert data.find_bad_images(user_folder, decode=True) == []


def test_decode_finds_damage_in_the_middle(tmp_path):
    folder = tmp_path / "f"
    for cls in ("a", "b"):
        (folder / cls).mkdir(parents=True)
        (folder / cls / "ok.png").write_bytes(b"")
    good = _jpeg((10, 20, 30))
    scan = good.index(b"\xff\xda") + 20  # the header (size, tables) and end marker kept, the pixel data overwritten
    damaged = good[:scan] + b"\xff" * (len(good) - scan - 20) + good[-20:]
    (folder / "a" / "ok.png").write_bytes(damaged)
    assert data.image_problem(folder / "a" / "ok.png") is None  # the quick check cannot see it
    assert "damaged JPEG" in data.image_problem(folder / "a" / "ok.png", decode=True)


def test_load_image_folder_fails_listing_every_bad_file(user_folder):
    with pytest.raises(data.BadImagesError) as info:
        transfer.load_image_folder(user_folder, 32)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "2 file(s)" in message and "cut_off.jpg: truncated JPEG" in message and "notes.jpg: a text file" in message
    assert "bad_images='skip'" in message


def test_load_image_folder_can_skip_them(user_folder, capsys):
    folder = transfer.load_image_folder(user_folder, 32, bad_images="skip")
    assert len(folder) == 6 and folder.images.shape == (6, 32, 32, 3) and folder.images.dtype == np.uint8
    assert folder.class_names == ["cats", "dogs"] and folder.counts() == {"cats": 3, "dogs": 3}
    assert folder.file_paths == [str(user_folder / c / f"{c}_{i}.jpg") for c in ("cats", "dogs") for i in range(3)]
    assert folder.images[0].mean(axis=(0, 1))[0] > 150 and folder.images[5].mean(axis=(0, 1))[2] > 150
    out = capsys.readouterr().out
    assert "Skipping 2 unreadable file(s)" in out and "notes.jpg" in out


def test_bad_images_argument_is_checked(user_folder):
    with pytest.raises(ValueError, match="bad_images='ignore'"):
        transfer.load_image_folder(user_folder, 32, bad_images="ignore")
