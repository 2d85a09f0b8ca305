"""The option tables of netlab.engine.formats.curl.options agree with each other (issue 13.4
split _apply into a table of handlers: an option listed as handled must reach one)."""

import dataclasses

from netlab.engine.formats.curl import options

# handled options that need nothing: what netlab does anyway
_NOTHING_TO_DO = {"--http1.1", "--globoff", "--basic"}


def test_every_handled_option_has_a_handler():
    reached = set(options._FLAGS) | set(options._HANDLERS) | _NOTHING_TO_DO
    assert reached == set(options._HANDLED)


def test_flags_take_no_value_and_handlers_take_one():
    assert not any(options._HANDLED[name] for name in options._FLAGS)
    assert all(options._HANDLED[name] for name in options._HANDLERS)


def test_flags_name_state_fields():
    fields = {f.name: f for f in dataclasses.fields(options.State)}
    for name, attr in options._FLAGS.items():
        assert attr in fields, name
        assert fields[attr].default is False, name


def test_short_options_name_known_long_ones():
    known = set(options._HANDLED) | set(options._QUIET) | set(options._NOTED) | set(options._UNSUPPORTED)
    assert set(options._SHORT.values()) <= known
