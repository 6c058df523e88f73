import subprocess
import sys


def handler(command: str) -> int:
    return subprocess.call(command, shell=True)


if __name__ == "__main__":
    sys.exit(handler("echo ok"))
