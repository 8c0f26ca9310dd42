"""A class on the classroom hub, in Chromium: the instructor releases `stability`, students log
in, fetch, validate and submit in the Assignments tab, the instructor collects and grades as the
instructor account, students fetch their feedback and see their score, the formgrader lists
the scores; a student cannot reach another's server or files; a late submission is marked late.

Real parts throughout: JupyterHub with PAM on Unix accounts made for the test (removed at the
end), configurable-http-proxy, one JupyterLab per user, nbgrader's exchange and extensions.
"""

import json
import os
import shutil
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hub.classroom import PROXY, Classroom, free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
ROSTER = Path(__file__).resolve().parent / "roster.csv"     # tnnt-*: never a real user's name
CHAPTER = "stability"                                       # NumPy only: validates in seconds
SAMPLES = ROOT / "samples" / "submitted"
UI_TIMEOUT_MS = 120_000


@pytest.fixture
def classroom():
    if os.geteuid() != 0:
        pytest.skip("the classroom hub makes Unix accounts and runs PAM: root only")
    if not PROXY.exists():
        pytest.fail(f"{PROXY} is missing: `npm ci --prefix hub` (make hub and make test run it)")
    # Not under pytest's tmp_path (0700 folders): the students' servers traverse to the exchange
    # and their role's configuration.
    top = Path(tempfile.mkdtemp(prefix="tnn-hub-test-"))
    os.chmod(top, 0o755)
    room = Classroom(top / "state", free_port(), ROSTER, top / "exchange")
    room.remove_accounts()                  # a previous run's, if it was killed before its end
    room.setup()
    room.start()
    print(room.describe(f"http://127.0.0.1:{room.port}/"))
    try:
        yield room
    finally:
        print(f"JupyterHub log tail:\n{room.tail(3000)}")
        room.stop()
        assert room.leftovers() == [], "processes of the class left after stop()"
        room.remove_accounts()
        shutil.rmtree(top, ignore_errors=True)


def test_a_class_on_the_hub(classroom, offline_context, screenshots):
    room = classroom
    url = f"http://127.0.0.1:{room.port}/"
    instructor = room.instructor
    s1, s2, s3 = room.students[:3]
    course = room.course_dir
    started = time.monotonic()
    pages = []
    for old in screenshots.glob("hub-*.png"):       # a previous run's: numbered from 1 again
        old.unlink()

    def shot(page, name):
        path = screenshots / f"hub-{len(list(screenshots.glob('hub-*')))+1:02d}-{name}.png"
        page.screenshot(path=path)

    def as_instructor(*args, **kwargs):
        return room.as_user(instructor, *args, cwd=course, **kwargs)

    def log_in(user):
        context, log = offline_context()
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        pages.append((user, page))
        page.goto(f"{url}hub/login")
        page.fill("#username_input", user)
        page.fill("#password_input", room.passwords[user])
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{user}/lab**")
        expect(page.locator(".lm-MenuBar-itemLabel:text-is('Nbgrader')")).to_be_visible()
        return context, page, log

    def nbgrader_menu(page):
        page.click(".lm-MenuBar-itemLabel:text-is('Nbgrader')")
        items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
        page.keyboard.press("Escape")
        return items

    def assignments_tab(page):
        page.click(".lm-MenuBar-itemLabel:text-is('Nbgrader')")
        page.click(".lm-Menu-itemLabel:text-is('Assignment List')")
        return page.locator(".lm-TabBar-tabLabel:text-is('Assignments')")

    def fetch(page):
        released = page.locator("#released_assignments_list")
        released.locator(".list_item", has_text=CHAPTER).get_by_role("button", name="Fetch").click()
        fetched = page.locator("#fetched_assignments_list")
        expect(fetched).to_contain_text(CHAPTER)
        return fetched

    def write_answer(user, sample):
        """The student's answer, written into the fetched notebook as that user (as an editor
        saving it would)."""
        notebook = room.home(user) / CHAPTER / "exercises.ipynb"
        assert notebook.is_file(), f"{user} has no fetched {notebook}"
        room.as_user(user, "cp", str(SAMPLES / sample / CHAPTER / "exercises.ipynb"),
                     str(notebook))
        return notebook

    def validate_and_submit(page, user, success):
        # Reopen the notebook: the answer on disk is what the editor shows.
        page.goto(f"{url}user/{user}/lab/tree/{CHAPTER}/exercises.ipynb")
        expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible()
        page.click(".jp-NotebookPanel-toolbar .validate-button")
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("Validation Results", timeout=UI_TIMEOUT_MS)
        report = dialog.inner_text()
        assert ("Success! Your notebook passes all the tests." in report) == success, report
        shot(page, f"{user}-validated")
        dialog.get_by_role("button", name="Ok").click()
        expect(assignments_tab(page)).to_be_visible()
        fetched = page.locator("#fetched_assignments_list")
        fetched.locator(".list_item", has_text=CHAPTER).first.get_by_role(
            "button", name="Submit").click()
        submitted = page.locator("#submitted_assignments_list")
        expect(submitted).to_contain_text(CHAPTER)
        shot(page, f"{user}-submitted")

    try:
        # 1. The instructor makes the student version and releases it (the usual verbs, as the
        # instructor account, in their course folder).
        as_instructor("nbgrader", "generate_assignment", CHAPTER, "--force")
        as_instructor("nbgrader", "release_assignment", CHAPTER)

        # 2. Student 1 logs in through the hub's form, sees Assignments but no Formgrader.
        ctx1, page1, log1 = log_in(s1)
        menu = nbgrader_menu(page1)
        assert "Assignment List" in menu and "Formgrader" not in menu, menu
        assert "Course List" not in menu, menu
        expect(assignments_tab(page1)).to_be_visible()
        fetch(page1)
        shot(page1, f"{s1}-fetched")
        write_answer(s1, "sample-correct")
        validate_and_submit(page1, s1, success=True)

        # 3. Student 2: a partly wrong answer, which validation says so, submitted anyway.
        ctx2, page2, log2 = log_in(s2)
        expect(assignments_tab(page2)).to_be_visible()
        fetch(page2)
        write_answer(s2, "sample-partial")
        validate_and_submit(page2, s2, success=False)

        # 4. Student 1 reaches neither student 2's server nor files outside their own home.
        inbound = room.exchange / room.course_id / "inbound"
        for path in (f"user/{s2}/api/contents", f"user/{s2}/lab",
                     f"user/{s2}/files/{CHAPTER}/exercises.ipynb"):
            response = ctx1.request.get(url + path, max_redirects=0)
            assert response.status in (302, 403, 404), f"{path}: {response.status}"
            if response.status == 302:
                assert f"/user/{s2}/" not in response.headers["location"].split("?")[0], \
                    response.headers["location"]
        for path in (f"%2E%2E/{instructor}/course/source/{CHAPTER}/exercises.ipynb",
                     f"%2E%2E/%2E%2E{inbound}"):
            response = ctx1.request.get(f"{url}user/{s1}/api/contents/{path}")
            assert response.status in (400, 403, 404), f"{path}: {response.status}"
        source = course / "source" / CHAPTER / "exercises.ipynb"
        for command in (["ls", str(inbound)], ["cat", str(source)],
                        ["ls", str(room.home(s2))]):
            result = room.as_user(s1, *command, check=False)
            assert result.returncode != 0 and "Permission denied" in result.stderr, \
                (command, result.stdout[:500])
        assert oct(inbound.stat().st_mode & 0o777) == "0o733"   # nbgrader's: write, no list

        # 5. A late submission: the due date moves into the past, then student 3 submits (in a
        # terminal, as that student: the same exchange as the tab).
        # (A second from now, as the due date has whole seconds: the earlier ones stay on time.)
        due = (datetime.now(timezone.utc) + timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S UTC")
        as_instructor("nbgrader", "db", "assignment", "add", CHAPTER, f"--duedate={due}")
        time.sleep(3)
        room.as_user(s3, "nbgrader", "fetch_assignment", CHAPTER)
        write_answer(s3, "sample-correct")
        room.as_user(s3, "nbgrader", "submit", CHAPTER)

        # 6. The instructor collects and grades as the instructor account, sandboxed: the doctor
        # first (its table goes to the test's output), then the cohort command.
        as_instructor("nbgrader", "collect", CHAPTER)
        doctor = as_instructor("python", "-m", "autograder", "doctor", check=False)
        print(f"doctor as {instructor} (rc {doctor.returncode}):\n{doctor.stdout}{doctor.stderr}")
        if doctor.returncode != 0:
            pytest.xfail(f"the sandbox cannot confine student code as {instructor} here; "
                         f"the doctor refused:\n{doctor.stdout[-1500:]}")
        grade = as_instructor("python", "-m", "autograder", "grade", CHAPTER, timeout=900)
        print(grade.stdout[-2000:])
        as_instructor("nbgrader", "generate_feedback", CHAPTER)
        as_instructor("nbgrader", "release_feedback", CHAPTER)

        from nbgrader.api import Gradebook
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            subs = {s.student.id: (s.score, s.max_score, s.total_seconds_late)
                    for s in gb.assignment_submissions(CHAPTER)}
        print("gradebook:", subs)
        assert set(subs) == {s1, s2, s3}, subs
        score1, full, late1 = subs[s1]
        score2, _, late2 = subs[s2]
        assert score1 == full > 0 and 0 < score2 < full, subs
        assert late1 == 0 and late2 == 0 and subs[s3][2] > 0, subs

        # 7. Each student fetches feedback in the tab; the feedback page shows their score.
        for user, page, score in ((s1, page1, score1), (s2, page2, score2)):
            page.goto(f"{url}user/{user}/lab")
            expect(assignments_tab(page)).to_be_visible()
            submitted = page.locator("#submitted_assignments_list")
            submitted.get_by_role("button", name="Fetch Feedback").first.click()
            expect(submitted).to_contain_text("(view feedback)")
            feedback = sorted((room.home(user) / CHAPTER / "feedback").glob("*/exercises.html"))
            assert feedback, f"{user}: no feedback fetched"
            stamp = feedback[-1].parent.name
            page.goto(f"{url}user/{user}/files/{CHAPTER}/feedback/{stamp}/exercises.html")
            expect(page.locator("body")).to_contain_text(
                f"(Score: {round(score, 2)} / {round(full, 2)})")
            shot(page, f"{user}-feedback")

        # 8. The formgrader, as the instructor in the browser (its own tab, as nbgrader documents
        # for JupyterHub >= 4.1): both submissions with those scores (and the late one).
        ctx0, page0, log0 = log_in(instructor)
        menu = nbgrader_menu(page0)
        assert {"Formgrader", "Course List", "Assignment List"} <= set(menu), menu
        page0.goto(f"{url}user/{instructor}/formgrader/manage_submissions/{CHAPTER}")
        for user, score in ((s1, score1), (s2, score2)):
            row = page0.locator("tr", has_text=user)
            # The formgrader's numbers are JavaScript's: 10, 6.5 (the feedback page's: 10.0).
            expect(row.locator(".score")).to_have_text(f"{score:g} / {full:g}")
        expect(page0.locator("tr", has_text=s3)).to_be_visible()    # late: the gradebook's
        shot(page0, "formgrader")
        # Nothing leaves the machine, the feedback pages' math included (MathJax is inlined:
        # autograder/grading/offline_math.py).
        for log in (log1, log2, log0):
            assert log.external == [], f"requests leaving 127.0.0.1: {log.external}"
    except Exception:
        for user, page in pages:
            try:
                shot(page, f"{user}-failed")
            except Exception:
                pass
        raise
    finally:
        print(f"class run: {time.monotonic() - started:.0f} s")
        print(json.dumps({"jupyterhub_log": str(room.log)}))
