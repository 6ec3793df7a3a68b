"""placeholder"""
def read_835(path, *, on_issue=None):
    raise NotImplementedError
