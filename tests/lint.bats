#!/usr/bin/env bats
# The habits the project keeps, checked: shell scripts shellcheck-clean,
# C formatted by the repo's .clang-format. (Warnings as errors are the
# build's own business: configure --enable-werror.)

# abs_top_srcdir is set by make.
# shellcheck disable=SC2154
bats_load_library bats-support
bats_load_library bats-assert

setup() {
	cd "$abs_top_srcdir" || return 1
}

# The bash scripts of the tree (by their first line), and the bats files.
shell_files() {
	local f
	for f in tools/* tools/*/* .ci/run tests/fuzz/make-corpus; do
		[[ -f $f ]] && head -n 1 "$f" | grep -q 'bash' && printf '%s\n' "$f"
	done
	ls tests/*.bats tests/helpers/*.bash
}

@test "shell scripts and bats suites are shellcheck-clean" {
	command -v shellcheck >/dev/null || skip "shellcheck not installed (Debian: shellcheck)"
	local -a files
	mapfile -t files < <(shell_files)
	((${#files[@]} > 10))
	run shellcheck -x -s bash "${files[@]}"
	assert_success
}

@test "C sources follow .clang-format" {
	command -v clang-format >/dev/null || skip "clang-format not installed (Debian: clang-format)"
	run clang-format --dry-run -Werror fcgi/*.[ch] tools/*/*.[ch] \
		tests/unit/*.[ch] tests/helpers/*.[ch] tests/fuzz/*.c
	assert_success
}
