from django import forms


class SubmissionTextForm(forms.Form):
    # strip=False: code and prose are stored exactly as written, except that
    # browsers send a textarea's line breaks as CRLF: stored as "\n".
    source_code = forms.CharField(
        required=False,
        strip=False,
        # data-code-editor: static/vendor/codemirror/editor.min.js lays a code editor over it.
        widget=forms.Textarea(attrs={
            "class": "code", "rows": 18, "spellcheck": "false", "autocapitalize": "off",
            "data-code-editor": "python", "aria-describedby": "source-help",
        }),
    )
    documentation = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 10}))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean_source_code(self) -> str:
        return _unix_newlines(self.cleaned_data["source_code"])

    def clean_documentation(self) -> str:
        return _unix_newlines(self.cleaned_data["documentation"])


def _unix_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
