"""Scores raw LLM continuations on specs/cap_set.py, trimmed as the original evaluator trims them.

Reads {"spec": path, "responses": [str], "ns": [int]} as JSON on stdin; writes one JSON object per
response: {"scores": [int]} or {"error": "<ExceptionType>"}. Each response gets a 2 s alarm.
"""
import ast
import json
import signal
import sys


def trim_function_body(generated_code):
    """The body of the first function after a fake header, cutting at the first syntax error."""
    if not generated_code:
        return ""
    code = f"def fake_function_header():\n{generated_code}"
    tree = None
    while tree is None:
        try:
            tree = ast.parse(code)
        except SyntaxError as e:
            code = "\n".join(code.splitlines()[: e.lineno - 1])
    if not code:
        return ""
    end = tree.body[0].end_lineno
    return "\n".join(code.splitlines()[1:end]) + "\n"


def strip_decorators(spec):
    return spec.replace("@funsearch.run\n", "").replace("@funsearch.evolve\n", "")


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout()


def main():
    request = json.load(sys.stdin)
    spec = strip_decorators(open(request["spec"]).read())
    head, _ = spec.split("def priority(")
    header = 'def priority(el: tuple[int, ...], n: int) -> float:\n  """Returns the priority."""\n'
    signal.signal(signal.SIGALRM, on_alarm)
    results = []
    for response in request["responses"]:
        body = trim_function_body(response)
        scope = {}
        signal.alarm(2)
        try:
            exec(head + header + body, scope)
            scores = [int(scope["evaluate"](n)) for n in request["ns"]]
            results.append({"scores": scores})
        except BaseException as e:  # noqa: BLE001 - every failure of a candidate is data here
            results.append({"error": type(e).__name__})
        finally:
            signal.alarm(0)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
