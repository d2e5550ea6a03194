from django import forms


class SubmissionTextForm(forms.Form):
    # strip=False: code and prose are stored exactly as written.
    source_code = forms.CharField(
        required=False, strip=False, widget=forms.Textarea(attrs={"class": "code", "rows": 18})
    )
    documentation = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 10}))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
